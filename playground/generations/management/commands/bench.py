"""`python manage.py bench`: the figures that say whether the playground keeps up.

Runs on a scratch database (never the installation's own) and a scratch sandbox, and
prints JSON:
- history_fragment: the History panel's latency with 10,000 of the team's generations
  (and as many of another team's) in the database, both rendered and unchanged (204);
- tracker: for growing numbers of in-flight tasks, how late one tracker process polls
  them against their schedule, and the largest number it keeps on schedule;
- completion_to_stored: from the sandbox marking a task completed to its images stored;
- references: time to validate and store, then host, 5 reference images just under 10 MB,
  and the process's peak memory meanwhile (run in a fresh child process).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from PIL import Image

from playground.generations import references
from playground.generations import tracker as tracker_module
from playground.generations.models import FINISHED, RUNNING, GeneratedImage, Generation, Reference, Status
from playground.generations.upstream import client_for
from playground.sandbox.process import start_sandbox
from playground.teams.models import Membership, Team

ON_SCHEDULE_SECONDS = 1.0  # a poll later than this past its due time is off schedule
REFERENCE_SIDE = 1860  # an RGB noise PNG stored uncompressed: 9.9 MB, just under the 10 MB limit
MB = 1024 * 1024


class Command(BaseCommand):
    help = ("Measure History latency, tracker capacity, completion-to-stored delay and the time and "
            "memory to take reference uploads; print JSON.")

    def add_arguments(self, parser):
        parser.add_argument("--generations", type=int, default=10_000)
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--tracker-loads", default="100,250,500,1000")
        parser.add_argument("--tracker-seconds", type=float, default=12)
        parser.add_argument("--completions", type=int, default=20)
        parser.add_argument("--references", type=int, default=5, help="reference images of ~10 MB; 0 skips")
        # Internal: the references section alone, on the images in this folder (see references_in_child).
        parser.add_argument("--references-from", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["references_from"]:
            with tempfile.TemporaryDirectory() as scratch, scratch_database(Path(scratch)):
                with bench_upstream(Path(scratch)):
                    team, user = bench_team()
                    report = bench_references(team, user, Path(options["references_from"]))
            self.stdout.write(json.dumps(report))
            return
        with tempfile.TemporaryDirectory() as scratch, scratch_database(Path(scratch)):
            with bench_upstream(Path(scratch)) as sandbox:
                team, user = bench_team()
                report = {
                    "history_fragment": bench_history(team, user, options["generations"], options["requests"]),
                    "tracker": bench_tracker(
                        team, sandbox,
                        [int(load) for load in options["tracker_loads"].split(",") if load],
                        options["tracker_seconds"],
                    ),
                    "completion_to_stored": bench_completion(team, sandbox, options["completions"]),
                }
        if options["references"]:
            report["references"] = references_in_child(options["references"])
        self.stdout.write(json.dumps(report, indent=2))


@contextmanager
def bench_upstream(scratch):
    """A scratch sandbox, and settings that point the playground at it."""
    with start_sandbox(scratch / "sandbox", env={"SANDBOX_API_KEY": "bench"}) as sandbox, override_settings(
        EVOLINK_BASE_URL=sandbox.url,
        EVOLINK_FILES_BASE_URL=sandbox.url,
        EVOLINK_API_KEY="",
        SANDBOX_API_KEY=sandbox.api_key,
        MEDIA_ROOT=scratch / "media",
    ):
        yield sandbox


@contextmanager
def scratch_database(folder):
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = str(folder / "bench.sqlite3")
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(str(folder / "bench.sqlite3"), verbosity=0)
        teardown_test_environment()


def bench_team():
    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER)
    return team, user


def percentiles(samples, scale=1000.0, digits=2):
    ordered = sorted(samples)
    if not ordered:
        return {"count": 0}

    def pick(share):
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * scale, digits)

    return {"count": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "max": round(ordered[-1] * scale, digits)}


# -- History fragment ---------------------------------------------------------------


def seed_generations(team, user, count):
    """`count` generations for the team and as many for another, mostly completed with images."""
    other = Team.objects.create(name="Other", slug="other")
    now = timezone.now()
    for owner_team in (team, other):
        rows = [
            Generation(
                team=owner_team, created_by=user, prompt=f"bench prompt {i} of a sunny harbour",
                size="1:1", n=1, status=Status.COMPLETED if i % 50 else Status.PROCESSING,
                progress=100 if i % 50 else 40, created_at=now - timedelta(seconds=count - i),
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


def bench_history(team, user, count, requests):
    seed_generations(team, user, count)
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
        "rendered_ms": percentiles(rendered),
        "unchanged_204_ms": percentiles(unchanged),
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
            self.lateness.append((timezone.now() - due).total_seconds())
        super()._step(pk)


def in_flight_tasks(team, sandbox, count, seconds):
    """`count` generations with real sandbox tasks that stay in flight for `seconds`."""
    now = timezone.now()
    with httpx.Client(headers=sandbox.headers, timeout=30) as http:
        task_ids = [
            http.post(f"{sandbox.url}/v1/images/generations",
                      json={"model": "gpt-4o-image", "prompt": f"bench [sandbox:seconds={seconds}]"}).json()["id"]
            for _ in range(count)
        ]
    Generation.objects.bulk_create(
        [Generation(team=team, prompt="bench", task_id=task_id, status=Status.PENDING, submitted_at=now,
                    estimated_seconds=seconds, next_check_at=now) for task_id in task_ids],
        batch_size=1000,
    )


def bench_tracker(team, sandbox, loads, seconds):
    results = []
    # Each task asks for a poll every 2 s, the vendor client's own rhythm.
    with override_settings(TRACKER_MIN_INTERVAL=2.0, TRACKER_MAX_INTERVAL=2.0):
        for load in loads:
            Generation.objects.filter(status__in=RUNNING).delete()
            in_flight_tasks(team, sandbox, load, seconds=3600)
            tracker = MeasuredTracker()
            stop = threading.Event()
            thread = threading.Thread(target=tracker.run_forever, args=(stop,))
            thread.start()
            time.sleep(seconds)
            stop.set()
            thread.join()
            steady = tracker.lateness[load:]  # past the first sweep, where all start due at once
            late = percentiles(steady, scale=1000.0)
            results.append({
                "in_flight": load,
                "polls_per_second": round(len(tracker.lateness) / seconds, 1),
                "needed_polls_per_second": round(load / 2.0, 1),
                "lateness_ms": late,
                "on_schedule": bool(steady) and late["p95"] <= ON_SCHEDULE_SECONDS * 1000,
            })
    Generation.objects.filter(status__in=RUNNING).delete()
    kept = [result["in_flight"] for result in results if result["on_schedule"]]
    return {"max_in_flight_on_schedule": max(kept, default=0), "on_schedule_means_p95_late_ms_under": 1000,
            "runs": results}


# -- Completion to stored ----------------------------------------------------------


def bench_completion(team, sandbox, count):
    """Delay from the sandbox marking a task completed to its images being stored."""
    task_seconds = 3
    Conf.SYNC = True  # ingest runs in the tracker's thread, as soon as the poll sees completion
    with override_settings(TRACKER_MIN_INTERVAL=0.5):
        completes_at = {}
        tracker = tracker_module.Tracker()
        stop = threading.Event()
        thread = threading.Thread(target=tracker.run_forever, args=(stop,))
        thread.start()
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
        stop.set()
        thread.join()
    delays = [
        finished.timestamp() - completes_at[pk]
        for pk, finished in Generation.objects.filter(pk__in=completes_at, status__in=FINISHED)
        .values_list("pk", "finished_at")
    ]
    return {"tasks": count, "stored": len(delays), "delay_ms": percentiles(delays)}


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
