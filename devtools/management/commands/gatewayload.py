"""`python manage.py gatewayload`: scripts use the EvoLink-compatible gateway at once.

Each of --scripts scripts holds a personal token of its own and, --creates times, creates a
task, polls it until it ends and opens its first result link, as a vendor client does. By
default it starts the whole app on its embedded default (`manage.py up`, against the built-in
sandbox) in a scratch data dir, as `manage.py loadtest` does; with --url it targets an app
already running on this machine with these settings' database. It prints requests per
second, each endpoint's latency and the errors, and exits non-zero on any error, a task that
did not complete, or a locked database.
"""

import argparse
import json
import subprocess
import sys
import tempfile

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.loadtest import app, scripts
from devtools.loadtest.people import settle

SETTLE_SECONDS = 120
# The scratch app: limits that a load of scripts does not reach, quick sandbox tasks and polls.
SCRATCH_SETTINGS = {
    "GATEWAY_REQUESTS_PER_MINUTE": "1000000",
    "GATEWAY_TASKS_IN_FLIGHT": "1000",
    "SANDBOX_TASK_SECONDS": "1",
    "TRACKER_MIN_INTERVAL": "0.5",
}


class Command(BaseCommand):
    help = ("Gateway load test: scripts with personal tokens create and poll tasks at once; print requests per "
            "second, p95 per endpoint and errors, and fail on any error.")

    def add_arguments(self, parser):
        parser.add_argument("--scripts", type=int, default=20)
        parser.add_argument("--creates", type=int, default=50, help="tasks each script creates, one after another")
        parser.add_argument("--poll-seconds", type=float, default=1.0, help="between a script's polls of a task")
        parser.add_argument("--url", help="an app already running on this machine, on these settings' database")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--in-scratch", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if not options["url"] and not options["in_scratch"]:
            return self.run_in_scratch(options)
        if options["url"]:
            figures = self.load(options["url"], options, [])
        else:
            with app.running_app() as url:
                figures = self.load(url, options, app.log_paths())
        self.stdout.write(json.dumps(figures, indent=2) if options["json"] else scripts.text(figures))
        found = problems(figures)
        if found:
            raise CommandError("The gateway load test failed: " + "; ".join(found))

    def run_in_scratch(self, options):
        command = [
            sys.executable, "manage.py", "gatewayload", "--in-scratch", "--scripts", str(options["scripts"]),
            "--creates", str(options["creates"]), "--poll-seconds", str(options["poll_seconds"]),
            *(["--json"] if options["json"] else []),
        ]
        with tempfile.TemporaryDirectory(prefix="gatewayload-app-") as folder:
            env = {**app.scratch_env(folder), **SCRATCH_SETTINGS}
            child = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)
            try:
                returncode = child.wait()
            except KeyboardInterrupt:
                returncode = child.wait()
        if returncode:
            raise SystemExit(returncode)

    def load(self, url, options, logs):
        team, plains = scripts.create_scripts(options["scripts"])
        figures = scripts.run_scripts(url, plains, options["creates"], options["poll_seconds"])
        figures["database"] = settle([team], SETTLE_SECONDS)
        figures["database_locked"] = sum(map(len, app.matching_lines(logs, ["database is locked"]).values()))
        figures["target"] = url if options["url"] else f"{url} (embedded default, scratch data dir, sandbox)"
        return figures


def problems(figures):
    found = []
    if figures["errors"]:
        found.append(f"{figures['errors']} errors")
    if figures["database_locked"]:
        found.append(f"{figures['database_locked']} 'database is locked' log lines")
    by_status = figures["database"]["by_status"]
    if set(by_status) - {"completed"}:
        found.append(f"generations: {by_status}")
    return found
