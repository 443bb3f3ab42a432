"""Tracker capacity and completion-to-stored delay, with one tracker thread or (--scale)
real `manage.py track` processes.
"""

import itertools
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_q.conf import Conf

from devtools.bench.measuring import milliseconds
from devtools.bench.seeding import in_flight_tasks
from devtools.processes import child_env
from playground.generations import tracker as tracker_module
from playground.generations.models import FINISHED, RUNNING, GeneratedImage, Generation, Status

ON_SCHEDULE_SECONDS = 1.0  # a poll later than this past its due time is off schedule
SCALE_TRACKERS = 2


class MeasuredTracker(tracker_module.Tracker):
    """A tracker that notes how late each poll started against the row's due time."""

    def __init__(self):
        super().__init__()
        self.lateness = []

    def _step(self, pk):
        due = Generation.objects.filter(pk=pk).values_list("next_check_at", flat=True).first()
        if due:
            self.lateness.append((pk, (timezone.now() - due).total_seconds()))
        super()._step(pk)


@contextmanager
def tracker_thread(**tracker_settings):
    """One MeasuredTracker in a thread of this process, with these settings. Yields a dict
    that holds, once it stopped, (generation id, lateness) of each of its polls in order."""
    Conf.SYNC = True  # ingest runs in the tracker's thread, as soon as the poll sees completion
    with override_settings(**tracker_settings):
        tracker = MeasuredTracker()
        stop = threading.Event()
        thread = threading.Thread(target=tracker.run_forever, args=(stop,))
        thread.start()
        run = {}
        try:
            yield run
        finally:
            stop.set()
            thread.join()
        run["lateness"] = tracker.lateness


def bench_tracker(team, sandbox, loads, seconds, trackers=tracker_thread):
    """For each load, how late the trackers that `trackers(**settings)` runs poll against the
    rows' due times (see tracker_thread and tracker_processes)."""
    results = []
    for load in loads:
        Generation.objects.filter(status__in=RUNNING).delete()
        in_flight_tasks(team, sandbox, load, seconds=3600)
        # Each task asks for a poll every 2 s, the vendor client's own rhythm.
        with trackers(TRACKER_MIN_INTERVAL=2.0, TRACKER_MAX_INTERVAL=2.0) as run:
            # Due only now that the trackers run: a tracker process's start-up is not lateness.
            Generation.objects.filter(status__in=RUNNING).update(next_check_at=timezone.now())
            time.sleep(seconds)
        lateness = run.pop("lateness")
        steady = past_first_sweep(lateness)
        late = milliseconds(steady)
        results.append({
            "in_flight": load,
            "polls_per_second": round(len(lateness) / seconds, 1),
            "needed_polls_per_second": round(load / 2.0, 1),
            "lateness_ms": late,
            # Only where another tracker polled the row while this one's claim on it waited in its queue.
            "polls_before_due": sum(seconds < 0 for seconds in steady),
            "on_schedule": bool(steady) and late["p95"] <= ON_SCHEDULE_SECONDS * 1000,
            **run,
        })
    Generation.objects.filter(status__in=RUNNING).delete()
    kept = [result["in_flight"] for result in results if result["on_schedule"]]
    return {"max_in_flight_on_schedule": max(kept, default=0), "on_schedule_means_p95_late_ms_under": 1000,
            "runs": results}


def past_first_sweep(lateness):
    """The lateness of every poll but each row's first: at the start all rows are due at once,
    and when that first sweep takes longer than the interval, its tail mixes with later polls."""
    polled, steady = set(), []
    for pk, late in lateness:
        if pk in polled:
            steady.append(late)
        polled.add(pk)
    return steady


# -- Tracker processes (--scale) -----------------------------------------------------


# In the scratch database while tracker processes run: a row for each lease taken (the
# generation, the tracker by its connection's application_name, when the row was due and
# when it was claimed), and one without a generation for each UPDATE of a generation that
# matched no row: in the tracker section, a claim another tracker had won first.
CLAIM_LOG = """
CREATE TABLE bench_claim (generation_id bigint, tracker text, due timestamptz, claimed timestamptz);
CREATE FUNCTION bench_note_claims() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_claim
    SELECT new_rows.id, current_setting('application_name'), old_rows.next_check_at, clock_timestamp()
    FROM new_rows JOIN old_rows USING (id)
    WHERE new_rows.lease_token <> '' AND new_rows.lease_token <> old_rows.lease_token;
    IF NOT EXISTS (SELECT FROM new_rows) THEN
        INSERT INTO bench_claim (tracker, claimed) VALUES (current_setting('application_name'), clock_timestamp());
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_note_claims AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bench_note_claims();
"""


@contextmanager
def tracker_processes(sandbox, folder, **tracker_settings):
    """SCALE_TRACKERS real `manage.py track` processes on the scratch database, storage and
    sandbox, with these settings. Yields a dict that holds, once they stopped, (generation id,
    lateness) of every poll in order (from the claim log), each tracker's share, and whether
    two polls of one task ever overlapped at the sandbox."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_LOG.replace("{table}", Generation._meta.db_table))
    httpx.delete(f"{sandbox.url}/_sandbox/calls", headers=sandbox.headers).raise_for_status()
    # Jobs run inline (Q_SYNC), so none reaches a queue the installation's own workers read;
    # wait_for_start reads the tracker's INFO "started" line.
    env = child_env(sandbox, Q_SYNC=1, LOG_LEVEL="INFO", **tracker_settings)
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "track"]
    logs = [folder / f"tracker-{number}.log" for number in range(1, SCALE_TRACKERS + 1)]
    processes = []
    for log in logs:
        with log.open("ab") as output:
            processes.append(subprocess.Popen(command, env={**env, "PGAPPNAME": log.stem}, stdin=subprocess.DEVNULL,
                                              stdout=output, stderr=subprocess.STDOUT))
    run = {}
    try:
        for process, log in zip(processes, logs, strict=True):
            wait_for_start(process, log)
        yield run
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    run.update(read_claim_log())
    run.update(overlapping_polls(sandbox))


def wait_for_start(process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while "tracker started" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise CommandError(f"{log.stem} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def read_claim_log():
    """The claim log's figures; the log and its trigger are dropped."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT generation_id, tracker, EXTRACT(EPOCH FROM claimed - due) FROM bench_claim "
                       "ORDER BY claimed")
        rows = cursor.fetchall()
        cursor.execute(f"DROP TRIGGER bench_note_claims ON {Generation._meta.db_table}; "
                       "DROP FUNCTION bench_note_claims(); DROP TABLE bench_claim;")
    claims = [(pk, tracker, late) for pk, tracker, late in rows if pk is not None]
    trackers_of = defaultdict(set)
    for pk, tracker, _ in claims:
        trackers_of[pk].add(tracker)
    return {
        "lateness": [(pk, float(late)) for pk, _, late in claims],
        "polls_by_tracker": dict(sorted(Counter(tracker for _, tracker, _ in claims).items())),
        "claims_lost": len(rows) - len(claims),
        "tasks_polled_by_both_trackers": sum(len(trackers) > 1 for trackers in trackers_of.values()),
    }


def overlapping_polls(sandbox):
    """How many polls of a task began before the sandbox had answered the one before it."""
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", headers=sandbox.headers, timeout=30).json()["calls"]
    spans = defaultdict(list)
    for call in calls:
        if call["method"] == "GET" and call["path"].startswith("/v1/tasks/"):
            spans[call["path"]].append((call["started"], call["ended"]))
    overlaps = 0
    for task in spans.values():
        task.sort()
        overlaps += sum(later[0] < earlier[1] for earlier, later in itertools.pairwise(task))
    return {"polls_seen_by_sandbox": sum(len(task) for task in spans.values()), "overlapping_polls": overlaps}


# -- Completion to stored ------------------------------------------------------------


def bench_completion(team, sandbox, count, trackers=tracker_thread):
    """Delay from the sandbox marking a task completed to its images being stored."""
    task_seconds = 3
    completes_at = {}
    with trackers(TRACKER_MIN_INTERVAL=0.5):
        with httpx.Client(headers=sandbox.headers, timeout=30) as http:
            for _ in range(count):
                reply = http.post(f"{sandbox.url}/v1/images/generations", json={
                    "model": "gpt-4o-image", "prompt": f"bench [sandbox:seconds={task_seconds}]"}).json()
                generation = Generation.objects.create(
                    team=team, prompt="bench", task_id=reply["id"], status=Status.PENDING,
                    submitted_at=timezone.now(), estimated_seconds=task_seconds, next_check_at=timezone.now())
                completes_at[generation.pk] = time.time() + task_seconds
                time.sleep(0.25)  # staggered, so this measures the pipeline, not a burst
        deadline = time.monotonic() + task_seconds + 60
        while Generation.objects.filter(pk__in=completes_at, status__in=RUNNING).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    delays = [
        finished.timestamp() - completes_at[pk]
        for pk, finished in Generation.objects.filter(pk__in=completes_at, status__in=FINISHED)
        .values_list("pk", "finished_at")
    ]
    images = GeneratedImage.objects.filter(generation__in=completes_at)
    return {"tasks": count, "stored": len(delays), "delay_ms": milliseconds(delays),
            "image_files_found": sum(default_storage.exists(image.file.name) for image in images)}
