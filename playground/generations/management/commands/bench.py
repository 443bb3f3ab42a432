"""`python manage.py bench`: the figures that say whether the playground keeps up.

Runs on a scratch database (never the installation's own) and a scratch sandbox, and
prints JSON:
- history_fragment: the History panel's latency with 10,000 of the team's generations
  (and as many of another team's) in the database, both rendered and unchanged (204);
- history_page: the History page's first page, a prompt search, a combined filter and the
  21st page, with 100,000 of one team's generations;
- team_accounts: on those generations, the usage page and its CSV export, and the time
  the budget check (row lock and two monthly sums) adds to each Generate;
- tracker: for growing numbers of in-flight tasks, how late one tracker process polls
  them against their schedule, and the largest number it keeps on schedule;
- completion_to_stored: from the sandbox marking a task completed to its images stored;
- zip_export: the selection ZIP of 200 generations of a ~3 MB image each, streamed: its
  time, time to first byte, and peak memory against its size;
- references: time to validate and store, then host, 5 reference images just under 10 MB,
  and the process's peak memory meanwhile (run in a fresh child process).

With --scale it measures the scale setup that the environment names (DATABASE_URL to
PostgreSQL; REDIS_URL and S3_BUCKET when set) instead: history_fragment and history_page
with 100,000 generations each, then tracker and completion_to_stored with two real
`manage.py track` processes, on a scratch database (bench_<random>) and a scratch storage
prefix that are removed afterwards.
"""

import argparse
import functools
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from PIL import Image

from playground.figures import percentiles
from playground.generations import credits, references
from playground.generations import tracker as tracker_module
from playground.generations.bucket import empty, in_bucket, storages_in
from playground.generations.models import FINISHED, RUNNING, GeneratedImage, Generation, Reference, Status
from playground.generations.processes import child_env
from playground.sandbox.process import start_sandbox
from playground.teams.models import Membership, Team
from playground.teams.upstream import client_for

# Timings are taken in seconds and reported in milliseconds.
milliseconds = functools.partial(percentiles, scale=1000.0)

ON_SCHEDULE_SECONDS = 1.0  # a poll later than this past its due time is off schedule
REFERENCE_SIDE = 1860  # an RGB noise PNG stored uncompressed: 9.9 MB, just under the 10 MB limit
MB = 1024 * 1024
SCALE_TRACKERS = 2


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
        # Internal: the references section alone, on the images in this folder (see references_in_child).
        parser.add_argument("--references-from", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["references_from"]:
            with scratch_setup():
                team, user = bench_team()
                report = bench_references(team, user, Path(options["references_from"]))
            self.stdout.write(json.dumps(report))
            return
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
            report["history_fragment"] = bench_history(team, user, generations, options["requests"])
            # Not on the scale setup: the usage page caches in Redis, which the installation shares,
            # and the ZIP and references sections would put gigabytes through the bucket.
            if not scale:
                report["team_accounts"] = bench_team_accounts(team, user, options["requests"])
            report["history_page"] = bench_history_page(options["history_page"], options["requests"])
            report["tracker"] = bench_tracker(team, sandbox, loads, options["tracker_seconds"], trackers)
            report["completion_to_stored"] = bench_completion(team, sandbox, options["completions"], trackers)
            if not scale:
                report["zip_export"] = bench_zip_export(team, user, options["zip_images"])
        if options["references"] and not scale:
            report["references"] = references_in_child(options["references"])
        self.stdout.write(json.dumps(report, indent=2))


@contextmanager
def scratch_setup():
    """A scratch folder, database, storage and sandbox: (folder, sandbox)."""
    with tempfile.TemporaryDirectory() as folder, scratch_database(Path(folder)), scratch_storage():
        with bench_upstream(Path(folder)) as sandbox:
            yield Path(folder), sandbox


@contextmanager
def bench_upstream(scratch):
    """A scratch sandbox, and settings that point the playground at it."""
    with start_sandbox(scratch / "sandbox", env={"SANDBOX_API_KEY": "bench"}) as sandbox, override_settings(
        SANDBOX_URL=sandbox.url,
        EVOLINK_API_KEY="",
        SANDBOX_API_KEY=sandbox.api_key,
        MEDIA_ROOT=scratch / "media",
    ):
        yield sandbox


@contextmanager
def scratch_database(folder):
    """A scratch database made as the tests make theirs: a SQLite file in `folder`, or a
    database bench_<random> on the same PostgreSQL server, dropped afterwards."""
    database = settings.DATABASES["default"]
    original = database["NAME"]
    scratch = str(folder / "bench.sqlite3") if connection.vendor == "sqlite" else f"bench_{uuid.uuid4().hex[:12]}"
    database.setdefault("TEST", {})["NAME"] = scratch
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        teardown_test_environment()


@contextmanager
def scratch_storage():
    """On S3, default storage moved to a scratch prefix inside the configured one, emptied
    afterwards. (A local MEDIA_ROOT is moved to the scratch folder by bench_upstream.)"""
    if not in_bucket():
        yield
        return
    with override_settings(STORAGES=storages_in(f"bench-{uuid.uuid4().hex[:12]}")):
        try:
            yield
        finally:
            empty(default_storage)


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


def bench_team():
    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER)
    return team, user


# -- History fragment ---------------------------------------------------------------


def unsaved(**fields):
    """A generation for bulk_create, which skips save(): so its folded prompt is set here."""
    return Generation(prompt_folded=fields["prompt"].casefold(), **fields)


def seed_generations(team, user, count):
    """`count` generations for the team and as many for another, mostly completed with images."""
    other = Team.objects.create(name="Other", slug="other")
    now = timezone.now()
    for owner_team in (team, other):
        rows = [
            unsaved(
                team=owner_team, created_by=user, prompt=f"bench prompt {i} of a sunny harbour",
                size="1:1", n=1, status=Status.COMPLETED if i % 50 else Status.PROCESSING,
                progress=100 if i % 50 else 40, created_at=now - timedelta(seconds=count - i),
                credits_estimated=1.5, credits_charged=1.5 if i % 50 else None,
            )
            for i in range(count)
        ]
        Generation.objects.bulk_create(rows, batch_size=1000)
    images = [
        GeneratedImage(generation_id=pk, index=0, file=f"bench/{pk}.png", thumbnail=f"bench/{pk}-thumb.webp",
                       content_type="image/png", width=1024, height=1024, bytes=1, sha256="0" * 64)
        for pk in Generation.objects.filter(status=Status.COMPLETED).values_list("pk", flat=True)
    ]
    GeneratedImage.objects.bulk_create(images, batch_size=1000)


def analyze():
    """PostgreSQL plans queries by statistics that autovacuum gathers some time after a bulk
    load, which a live database has long had: gather them now, or the figures depend on
    whether autovacuum came by yet (10x on the History fragment). SQLite keeps none unless
    asked, and is left so."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def bench_history(team, user, count, requests):
    seed_generations(team, user, count)
    analyze()
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    url = reverse("studio:history")
    version = client.get(url).content.decode().split('"v": "')[1].split('"')[0]
    rendered, unchanged = [], []
    for _ in range(requests):
        rendered.append(timed(lambda: client.get(url)))
        unchanged.append(timed(lambda: client.get(url, {"v": version}), expect=204))
    return {
        "generations_in_database": Generation.objects.count(),
        "rendered_ms": milliseconds(rendered),
        "unchanged_204_ms": milliseconds(unchanged),
    }


# -- History page -------------------------------------------------------------------------


def bench_history_page(count, requests):
    """The History page with `count` generations of one team (and 10% as many of another):
    the first page unfiltered, a prompt search, a combined filter, and a page deep in."""
    if not count:
        return {"skipped": True}
    team = Team.objects.create(name="Archive", slug="archive")
    people = [get_user_model().objects.create_user(f"archivist{i}") for i in range(5)]
    Membership.objects.bulk_create(Membership(team=team, user=person) for person in people)
    seed_archive(team, people, count)
    analyze()
    client = Client()
    client.force_login(people[0])
    url = reverse("studio:generations")
    deep = deep_page_cursor(client, url, pages=20)
    views = {
        "unfiltered": {},
        "prompt_search": {"q": "lighthouse dawn"},
        "prompt_search_no_match": {"q": "zeppelin"},  # the worst case: every row is read
        "combined_filter": {"q": "harbour", "person": people[2].pk, "status": "completed", "size": "3:2"},
        "page_21_unfiltered": {"after": deep},
    }
    report = {"generations_in_database": Generation.objects.count()}
    for name, query in views.items():
        samples = [timed(lambda query=query: client.get(url, query), expect=200) for _ in range(requests // 4)]
        report[f"{name}_ms"] = milliseconds(samples)
    return report


SUBJECTS = ["lighthouse at dawn", "harbour at night", "red bicycle", "mountain cabin", "city market", "paper boat"]


def seed_archive(team, people, count):
    now = timezone.now()
    statuses = [Status.COMPLETED] * 8 + [Status.FAILED, Status.EXPIRED]
    sizes = ["1:1", "2:3", "3:2"]
    for start in range(0, count, 5000):
        Generation.objects.bulk_create(
            unsaved(
                team=team, created_by=people[i % len(people)], prompt=f"poster {i}: a {SUBJECTS[i % len(SUBJECTS)]}",
                size=sizes[i % 3], n=1, status=statuses[i % len(statuses)], progress=100,
                created_at=now - timedelta(minutes=count - i),
            )
            for i in range(start, min(count, start + 5000))
        )
    other = Team.objects.create(name="Archive rival", slug="archive-rival")
    Generation.objects.bulk_create(
        unsaved(team=other, prompt="a lighthouse at dawn", created_at=now) for _ in range(count // 10)
    )


def deep_page_cursor(client, url, pages):
    """The cursor of the page `pages` pages in, followed from the first as a person would."""
    cursor = None
    for _ in range(pages):
        page = client.get(url, {"after": cursor} if cursor else {}).content.decode()
        found = re.search(r'<a rel="next" href="[^"]*after=([^"&]+)"', page)
        if not found:
            break
        cursor = unquote(found.group(1))
    return cursor


# -- Usage page and budget check ------------------------------------------------------


def bench_team_accounts(team, user, requests):
    """On the History section's generations (all made this month): the usage page, its CSV,
    and what the budget check adds to each Generate."""
    client = Client()
    client.force_login(user)
    usage, export = reverse("teams:usage"), reverse("teams:usage-csv")
    team.monthly_budget = 10**9
    team.save(update_fields=["monthly_budget"])
    reserve = []
    for _ in range(requests):
        with transaction.atomic():
            reserve.append(timed(lambda: credits.reserve(team, user, 4) and None))
            transaction.set_rollback(True)
    return {
        "generations_this_month": credits.this_month(team).count(),
        "usage_page_ms": milliseconds([timed(lambda: client.get(usage), expect=200) for _ in range(requests // 4)]),
        "usage_csv_ms": milliseconds([timed(lambda: client.get(export), expect=200) for _ in range(requests // 4)]),
        "budget_check_ms": milliseconds(reserve),
    }


def timed(request, expect=None):
    started = time.perf_counter()
    response = request()
    elapsed = time.perf_counter() - started
    if expect and response.status_code != expect:
        raise AssertionError(f"expected {expect}, got {response.status_code}")
    return elapsed


# -- Tracker capacity ---------------------------------------------------------------


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


def in_flight_tasks(team, sandbox, count, seconds):
    """`count` generations with real sandbox tasks that stay in flight for `seconds`, not due
    until bench_tracker makes them so."""
    now = timezone.now()
    with httpx.Client(headers=sandbox.headers, timeout=30) as http:
        task_ids = [
            http.post(f"{sandbox.url}/v1/images/generations",
                      json={"model": "gpt-4o-image", "prompt": f"bench [sandbox:seconds={seconds}]"}).json()["id"]
            for _ in range(count)
        ]
    Generation.objects.bulk_create(
        [unsaved(team=team, prompt="bench", task_id=task_id, status=Status.PENDING, submitted_at=now,
                 estimated_seconds=seconds) for task_id in task_ids],
        batch_size=1000,
    )


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


# -- Completion to stored ----------------------------------------------------------


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


# -- ZIP export -------------------------------------------------------------------------


ZIP_SIDE = 1024  # an RGB noise PNG of 1024 × 1024: about 3 MB, the size of a real result


def bench_zip_export(team, user, count):
    """The selection ZIP of `count` generations of one real ~3 MB image each, read from the
    response chunk by chunk and dropped, as a browser saving it to disk would.

    Run twice: once plain for the speed, once under tracemalloc for the memory."""
    if not count:
        return {"skipped": True}
    ids, image_size = seed_zip_export(team, user, count)
    client = Client()
    client.force_login(user)
    speed = download_zip(client, ids)
    with measured() as memory:
        download_zip(client, ids)
    total_mb = speed["bytes"] / MB
    return {
        "generations": count,
        "image_mb": round(image_size / MB, 2),
        "zip_bytes": speed["bytes"],
        "zip_mb": round(total_mb, 1),
        "seconds": round(speed["seconds"], 2),
        "mb_per_second": round(total_mb / speed["seconds"], 1),
        "first_byte_ms": round(speed["first_byte"] * 1000, 1),
        "chunks": speed["chunks"],
        "largest_chunk_mb": round(speed["largest_chunk"] / MB, 2),
        "memory": memory,
        "python_peak_share_of_zip": round(memory["python_peak_mb"] / total_mb, 4),
        "note": (
            "One POST of every id to studio:selection-zip through the test client; streaming_content is "
            "iterated and only counted. seconds, mb_per_second and first_byte_ms come from a plain run "
            "(the files are in the page cache, having just been written); memory from a second run under "
            "tracemalloc, with the fields of the references section (python_peak_mb: Python allocations; "
            "rss_hwm_increase_mb: the process's resident peak over its start). A ZIP built in memory "
            "would need at least zip_mb of both. MB = 2**20 bytes."
        ),
    }


def seed_zip_export(team, user, count):
    """`count` completed generations, each with its own copy of one noise PNG in storage."""
    out = BytesIO()
    Image.frombytes("RGB", (ZIP_SIDE, ZIP_SIDE), os.urandom(ZIP_SIDE * ZIP_SIDE * 3)).save(out, "PNG")
    data = out.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    now = timezone.now()
    generations = Generation.objects.bulk_create(
        unsaved(team=team, created_by=user, prompt=f"zip export {i}: a harbour at night", status=Status.COMPLETED,
                progress=100, created_at=now - timedelta(seconds=i), credits_estimated=1.5, credits_charged=1.5)
        for i in range(count)
    )
    GeneratedImage.objects.bulk_create(
        GeneratedImage(
            generation=generation, index=0, file=default_storage.save(f"bench-zip/{generation.public_id}.png",
                                                                      ContentFile(data)),
            thumbnail="bench-zip/thumb.webp", content_type="image/png", width=ZIP_SIDE, height=ZIP_SIDE,
            bytes=len(data), sha256=digest,
        )
        for generation in generations
    )
    return [str(generation.public_id) for generation in generations], len(data)


def download_zip(client, ids):
    started = time.perf_counter()
    response = client.post(reverse("studio:selection-zip"), {"generation": ids})
    if response.status_code != 200 or not response.streaming:
        raise AssertionError(f"HTTP {response.status_code}, streaming: {response.streaming}")
    figures = {"bytes": 0, "chunks": 0, "largest_chunk": 0, "first_byte": None}
    for chunk in response.streaming_content:
        if figures["first_byte"] is None:
            figures["first_byte"] = time.perf_counter() - started
        figures["bytes"] += len(chunk)
        figures["chunks"] += 1
        figures["largest_chunk"] = max(figures["largest_chunk"], len(chunk))
    figures["seconds"] = time.perf_counter() - started
    if not chunk.endswith(b"\0\0") or b"PK\x05\x06" not in chunk[-22:]:  # the end of central directory
        raise AssertionError("the ZIP does not end with its central directory")
    return figures


# -- References: validate, store and host ------------------------------------------


def references_in_child(count):
    """The references section, run by a fresh process of this command so that the memory
    of the sections before (and of making the images) does not hide its peak."""
    with tempfile.TemporaryDirectory() as folder:
        make_references(Path(folder), count)
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench", "--references-from", folder]
        output = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(output)


def make_references(folder, count):
    """`count` distinct PNGs of random noise, each just under 10 MB, made one at a time."""
    for i in range(count):
        path = folder / f"reference-{i + 1}.png"
        noise = os.urandom(REFERENCE_SIDE * REFERENCE_SIDE * 3)
        Image.frombytes("RGB", (REFERENCE_SIDE, REFERENCE_SIDE), noise).save(path, "PNG", compress_level=0)
        if path.stat().st_size > references.MAX_REFERENCE_BYTES:
            raise AssertionError(f"{path.name} is {path.stat().st_size} bytes, over the limit")


def multipart_body(paths, body_path):
    """The page's upload as a multipart body, written to a file chunk by chunk.

    The test client's own encoder reads every file into memory, which a browser would
    do, not the server; this body is streamed to the view as wsgi.input instead.
    """
    with body_path.open("wb") as body:
        for path in paths:
            body.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="images"; filename="{path.name}"\r\n'
                       f"Content-Type: image/png\r\n\r\n".encode())
            with path.open("rb") as image:
                while chunk := image.read(MB):
                    body.write(chunk)
            body.write(b"\r\n")
        body.write(f"--{BOUNDARY}--\r\n".encode())


def memory_status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)  # kB to MB


@contextmanager
def measured():
    """Seconds, peak Python allocations (tracemalloc) and the RSS high-water mark of a step.

    VmHWM is the process's lifetime peak: it is reset to the current RSS first where the
    kernel allows it (/proc/self/clear_refs), so "after" is the step's own peak."""
    figures = {}
    try:
        Path("/proc/self/clear_refs").write_text("5")
        figures["rss_hwm_reset_before"] = True
    except OSError:
        figures["rss_hwm_reset_before"] = False
    hwm_before = memory_status("VmHWM")
    tracemalloc.start()
    started = time.perf_counter()
    yield figures
    figures["seconds"] = round(time.perf_counter() - started, 2)
    figures["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / MB, 1)
    tracemalloc.stop()
    hwm_after = memory_status("VmHWM")
    figures.update(rss_hwm_before_mb=hwm_before, rss_hwm_after_mb=hwm_after,
                   rss_hwm_increase_mb=round(hwm_after - hwm_before, 1))


def bench_references(team, user, folder):
    paths = sorted(folder.glob("*.png"))
    sizes = [path.stat().st_size for path in paths]
    multipart_body(paths, folder / "body")
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    # Set the storage up first: on S3 its client loads ~12 MB of models once per process,
    # which is no part of taking the files.
    default_storage.exists("bench-warm-up")
    with (folder / "body").open("rb") as body, measured() as validate_and_store:
        response = client.generic("POST", reverse("studio:references"), CONTENT_TYPE=MULTIPART_CONTENT,
                                  CONTENT_LENGTH=str((folder / "body").stat().st_size), **{"wsgi.input": body})
    stored = list(Reference.objects.filter(team=team))
    if response.status_code != 200 or len(stored) != len(paths):
        raise AssertionError(f"HTTP {response.status_code}, {len(stored)} of {len(paths)} stored: "
                             f"{response.content.decode()[:500]}")
    upstream = client_for(team)
    with measured() as hosting:
        hosted = [references.hosted_url(reference, upstream) for reference in stored]
    if not all(hosted):
        raise AssertionError("a reference was not hosted")
    return {
        "files": len(paths),
        "file_mb": [round(size / MB, 2) for size in sizes],
        "all_files_mb": round(sum(sizes) / MB, 1),
        "validate_and_store": validate_and_store,
        "hosting": hosting,
        "note": (
            "One multipart POST of all files to the references view (Django's upload handlers spool "
            "them to disk), then hosted_url for each against the sandbox. MB = 2**20 bytes. "
            "python_peak_mb: peak of Python allocations during the step (tracemalloc, started just "
            "before; Pillow's pixel buffers are not counted). rss_hwm_*: VmHWM of a fresh child "
            "process before and after the step, reset to the current RSS first when "
            "rss_hwm_reset_before; the increase is the step's peak resident memory over its start, "
            "Pillow's decoded pixels included. Compare both with file_mb (one file) and "
            "all_files_mb (every file in memory at once). Seconds include tracemalloc's overhead."
        ),
    }
