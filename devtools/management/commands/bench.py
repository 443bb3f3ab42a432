"""`python manage.py bench`: the figures that say whether the playground keeps up.

Runs on a scratch database (never the installation's own) and a scratch sandbox, and
prints JSON:
- history_fragment: the History panel's latency with 10,000 of the team's generations
  (and as many of another team's) in the database, both rendered and unchanged (204);
- history_page: the History page's first page, a prompt search, a combined filter and the
  21st page, with 100,000 of one team's generations;
- team_accounts: on those generations, the usage page and its CSV export, and the time
  the budget check (row lock, the month's running totals read, the new generation
  counted) adds to each Generate;
- tracker: for growing numbers of in-flight tasks, how late one tracker process polls
  them against their schedule, and the largest number it keeps on schedule;
- completion_to_stored: from the sandbox marking a task completed to its images stored;
- zip_export: the selection ZIP of 200 generations of a ~3 MB image each, streamed: its
  time, time to first byte, and peak memory against its size;
- batch_run: a batch of 500 rows started by `manage.py batch`, sent by the app's own queue
  workers, tracker and web server (as `manage.py up` runs them) against the sandbox while 5
  teammates poll the History panel and the batch's progress: time to all done, the panel's
  latency meanwhile, the tracker's lateness, the peak of the team's tasks in flight against
  TEAM_TASKS_IN_FLIGHT, and "database is locked" seen anywhere (must be 0);
- references: time to validate and store, then host, 5 reference images just under 10 MB,
  and the process's peak memory meanwhile (run in a fresh child process).

--only runs some sections, e.g. `bench --only team_accounts --generations 100000`.

With --scale it measures the scale setup that the environment names (DATABASE_URL to
PostgreSQL; REDIS_URL and S3_BUCKET when set) instead: history_fragment and history_page
with 100,000 generations each, then tracker and completion_to_stored with two real
`manage.py track` processes, on a scratch database (bench_<random>) and a scratch storage
prefix that are removed afterwards.
"""

import argparse
import functools
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from devtools.bench.batch_run import bench_batch_run
from devtools.bench.pages import (
    bench_history,
    bench_history_page,
    bench_references,
    bench_team_accounts,
    bench_zip_export,
    references_in_child,
)
from devtools.bench.scratch import scratch_setup
from devtools.bench.seeding import analyze, bench_team, seed_generations
from devtools.bench.trackers import (
    SCALE_TRACKERS,
    bench_completion,
    bench_tracker,
    tracker_processes,
    tracker_thread,
)
from playground.generations.bucket import in_bucket


class Command(BaseCommand):
    help = ("Measure History latency, tracker capacity, completion-to-stored delay and the time and "
            "memory to take reference uploads; print JSON.")

    def add_arguments(self, parser):
        parser.add_argument("--scale", action="store_true",
                            help="the scale setup (DATABASE_URL, REDIS_URL, S3_BUCKET) with two tracker processes")
        parser.add_argument("--generations", type=int, help="for the History fragment (10,000; 100,000 with --scale)")
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--history-page", type=int, default=100_000, help="generations for the History page; 0 skips")
        parser.add_argument("--tracker-loads", default="100,250,500,1000")
        parser.add_argument("--tracker-seconds", type=float, default=12)
        parser.add_argument("--completions", type=int, default=20)
        parser.add_argument("--references", type=int, default=5, help="reference images of ~10 MB; 0 skips")
        parser.add_argument("--zip-images", type=int, default=200, help="generations in the ZIP export; 0 skips")
        parser.add_argument("--batch-rows", type=int, default=500, help="rows of the batch_run section's batch")
        parser.add_argument("--batch-viewers", type=int, default=5, help="people watching the batch_run")
        parser.add_argument("--batch-task-seconds", type=float, default=3.0,
                            help="how long the sandbox takes for each of the batch's tasks")
        parser.add_argument("--only", help=f"comma-separated sections to run (of {', '.join(SECTIONS)}); default all")
        # Internal: the references section alone, on the images in this folder (see references_in_child).
        parser.add_argument("--references-from", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["references_from"]:
            with scratch_setup():
                team, user = bench_team()
                report = bench_references(team, user, Path(options["references_from"]))
            self.stdout.write(json.dumps(report))
            return
        wanted = sections(options["only"])
        scale = options["scale"]
        if scale and not (settings.DATABASE_URL and connection.vendor == "postgresql"):
            raise CommandError("--scale measures the scale setup: set DATABASE_URL to a PostgreSQL server "
                               "(and REDIS_URL and S3_BUCKET to use those).")
        generations = options["generations"] or (100_000 if scale else 10_000)
        loads = [int(load) for load in options["tracker_loads"].split(",") if load]
        with scratch_setup() as (folder, sandbox):
            team, user = bench_team()
            trackers = functools.partial(tracker_processes, sandbox, folder) if scale else tracker_thread
            report = {"engines": engines()} if scale else {}
            if "history_fragment" in wanted:
                report["history_fragment"] = bench_history(team, user, generations, options["requests"])
            elif "team_accounts" in wanted:
                seed_generations(team, user, generations)  # what team_accounts measures on
                analyze()
            # Not on the scale setup: the usage page caches in Redis, which the installation shares,
            # and the ZIP and references sections would put gigabytes through the bucket.
            if not scale and "team_accounts" in wanted:
                report["team_accounts"] = bench_team_accounts(team, user, options["requests"])
            if "history_page" in wanted:
                report["history_page"] = bench_history_page(options["history_page"], options["requests"])
            if "tracker" in wanted:
                report["tracker"] = bench_tracker(team, sandbox, loads, options["tracker_seconds"], trackers)
            if "completion_to_stored" in wanted:
                report["completion_to_stored"] = bench_completion(team, sandbox, options["completions"], trackers)
            if not scale and "batch_run" in wanted:
                report["batch_run"] = bench_batch_run(team, user, sandbox, options["batch_rows"],
                                                      options["batch_viewers"], options["batch_task_seconds"])
            if not scale and "zip_export" in wanted:
                report["zip_export"] = bench_zip_export(team, user, options["zip_images"])
        if options["references"] and not scale and "references" in wanted:
            report["references"] = references_in_child(options["references"])
        self.stdout.write(json.dumps(report, indent=2))


SECTIONS = ("history_fragment", "team_accounts", "history_page", "tracker", "completion_to_stored", "batch_run",
            "zip_export", "references")


def sections(only):
    """The sections asked for by --only (every one without it)."""
    if not only:
        return set(SECTIONS)
    asked = {name.strip() for name in only.split(",") if name.strip()}
    if unknown := asked - set(SECTIONS):
        raise CommandError(f"Unknown sections: {', '.join(sorted(unknown))}. The sections: {', '.join(SECTIONS)}.")
    return asked


def engines():
    """What a --scale run measures on, and the scratch places it used there."""
    storage = settings.STORAGES["default"]
    return {
        "database": connection.vendor,
        "scratch_database": connection.settings_dict["NAME"],
        "broker": "redis" if settings.Q_CLUSTER.get("redis") else "orm",
        "storage": storage["BACKEND"],
        "scratch_storage": storage["OPTIONS"]["location"] if in_bucket() else str(settings.MEDIA_ROOT),
        "trackers": SCALE_TRACKERS,
        "note": (
            "The trackers are `manage.py track` processes on the scratch database, storage and sandbox. Their "
            "jobs (ingest) run inline (Q_SYNC), as the embedded bench runs them in its tracker thread: so the "
            "broker carries nothing, and nothing reaches a queue that the installation's own workers read. "
            "A poll's lateness is its claim's time minus the row's due time, both logged by a trigger in the "
            "scratch database; claims_lost counts claims the other tracker won first; overlapping_polls "
            "comes from the sandbox's own record of the calls it served."
        ),
    }
