"""`python manage.py loadtest`: people keep the playground open and generate, for minutes.

By default it starts the whole app on its embedded default (`manage.py up`: gunicorn, queue
workers, tracker, sandbox, on free loopback ports) in a scratch data dir, by running itself
again there with --in-scratch; with --url it targets an app already running on this machine
with these settings' database (people are made there). locust runs the people
(devtools/loadtest/locustfile.py) headless, in a process of its own. Then it waits for
every generation to finish and prints requests per second, each endpoint's latency and
errors, the generations' fate and timings, and the "database is locked" lines in the app's
logs. It exits non-zero on any request error, locked database or lost or failed generation.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.figures import percentiles
from devtools.loadtest import app, report
from devtools.loadtest.people import create_people, settle

LOCUSTFILE = Path(app.__file__).with_name("locustfile.py")
SETTLE_SECONDS = 180
STOP_TIMEOUT_SECONDS = 60  # for the people's last step (a Generate, a poll) to finish
LOCUST_GRACE_SECONDS = 180  # past the run time: spawning, stopping, writing the figures


class Command(BaseCommand):
    help = ("Load test: people sign in, keep the playground open and generate, for --minutes; print "
            "requests per second, latency per endpoint and errors, and fail on any error or locked database.")

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--minutes", type=float, default=10)
        parser.add_argument("--spawn-rate", type=float, default=5, help="people starting per second")
        parser.add_argument("--team-size", type=int, default=10, help="people per team")
        parser.add_argument("--url", help="an app already running on this machine, on these settings' database")
        parser.add_argument("--logs", nargs="*", default=[], help="with --url: the app's log files to check")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        # Internal: this process runs in the scratch data dir (see handle).
        parser.add_argument("--in-scratch", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if not options["url"] and not options["in_scratch"]:
            return self.run_in_scratch(options)
        with tempfile.TemporaryDirectory(prefix="loadtest-") as folder:
            if options["url"]:
                figures = self.load_test(options["url"], Path(folder), options, options["logs"])
            else:
                with app.running_app() as url:
                    figures = self.load_test(url, Path(folder), options, app.log_paths())
        self.stdout.write(json.dumps(figures, indent=2) if options["json"] else report.text(figures))
        found = report.problems(figures)
        if found:
            raise CommandError("The load test failed: " + "; ".join(found))

    def run_in_scratch(self, options):
        """Settings are read once per process: a scratch data dir needs a process of its own."""
        command = [
            sys.executable, "manage.py", "loadtest", "--in-scratch", "--users", str(options["users"]),
            "--minutes", str(options["minutes"]), "--spawn-rate", str(options["spawn_rate"]),
            "--team-size", str(options["team_size"]), *(["--json"] if options["json"] else []),
        ]
        with tempfile.TemporaryDirectory(prefix="loadtest-app-") as folder:
            child = subprocess.Popen(command, cwd=settings.BASE_DIR, env=app.scratch_env(folder))
            try:
                returncode = child.wait()
            except KeyboardInterrupt:  # the child has its Ctrl-C too: let it stop the app first
                returncode = child.wait()
        if returncode:
            raise SystemExit(returncode)

    def load_test(self, url, folder, options, logs):
        password = secrets.token_urlsafe(12)
        teams, usernames = create_people(options["users"], options["team_size"], password)
        seconds = round(options["minutes"] * 60)
        figures = run_locust(url, usernames, password, options, seconds, folder)
        figures["database"] = settle(teams, SETTLE_SECONDS)
        locked = app.matching_lines(logs, ["database is locked"])
        errors = app.matching_lines(logs, ["ERROR", "Traceback"])
        target = url if options["url"] else f"{url} (embedded default, scratch data dir)"
        return {
            "target": target,
            "users": options["users"],
            "team_size": options["team_size"],
            "rps": round(figures["requests"] / max(figures["seconds"], 1), 1),
            "database_locked": sum(map(len, locked.values())),
            "database_locked_by_log": {name: len(lines) for name, lines in locked.items()},
            "error_lines_by_log": {name: len(lines) for name, lines in errors.items() if lines},
            "error_line_samples": list(dict.fromkeys(line for lines in errors.values() for line in lines))[:8],
            **figures,
        }


def run_locust(url, usernames, password, options, seconds, folder):
    figures_path = folder / "locust.json"
    env = {
        **os.environ,
        "LOADTEST_USERNAMES": ",".join(usernames),
        "LOADTEST_PASSWORD": password,
        "LOADTEST_REPORT": str(figures_path),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "--users", str(options["users"]), "--spawn-rate", str(options["spawn_rate"]), "--run-time", f"{seconds}s",
        "--stop-timeout", str(STOP_TIMEOUT_SECONDS), "--only-summary", "--loglevel", "WARNING",
    ]
    with open(folder / "locust.log", "wb") as log:
        # Its exit code says only whether a request failed, which the figures say too.
        subprocess.run(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                       timeout=seconds + LOCUST_GRACE_SECONDS)
    if not figures_path.exists():
        raise CommandError("locust wrote no figures:\n" + (folder / "locust.log").read_text(errors="replace")[-3000:])
    figures = json.loads(figures_path.read_text())
    figures["error_messages"] = figures.pop("errors")
    figures["errors"] = figures["failures"]
    figures["generations"]["submit_to_result_on_page_s"] = percentiles(
        figures["generations"].pop("seconds_to_result")
    )
    return figures
