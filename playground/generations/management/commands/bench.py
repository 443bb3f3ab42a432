"""`python manage.py bench`: the figures that say whether the playground keeps up.

Runs on a scratch database (never the installation's own) and a scratch sandbox, and
prints JSON:
- history_fragment: the History panel's latency with 10,000 of the team's generations
  (and as many of another team's) in the database, both rendered and unchanged (204);
- tracker: for growing numbers of in-flight tasks, how late one tracker process polls
  them against their schedule, and the largest number it keeps on schedule;
- completion_to_stored: from the sandbox marking a task completed to its images stored.
"""

import json
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from playground.generations import tracker as tracker_module
from playground.generations.models import FINISHED, RUNNING, GeneratedImage, Generation, Status
from playground.sandbox.process import start_sandbox
from playground.teams.models import Membership, Team

ON_SCHEDULE_SECONDS = 1.0  # a poll later than this past its due time is off schedule


class Command(BaseCommand):
    help = "Measure History latency, tracker capacity and completion-to-stored delay; print JSON."

    def add_arguments(self, parser):
        parser.add_argument("--generations", type=int, default=10_000)
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--tracker-loads", default="100,250,500,1000")
        parser.add_argument("--tracker-seconds", type=float, default=12)
        parser.add_argument("--completions", type=int, default=20)

    def handle(self, *args, **options):
        with tempfile.TemporaryDirectory() as scratch, scratch_database(Path(scratch)):
            scratch = Path(scratch)
            with start_sandbox(scratch / "sandbox", env={"SANDBOX_API_KEY": "bench"}) as sandbox, override_settings(
                EVOLINK_BASE_URL=sandbox.url,
                EVOLINK_FILES_BASE_URL=sandbox.url,
                EVOLINK_API_KEY="",
                SANDBOX_API_KEY=sandbox.api_key,
                MEDIA_ROOT=scratch / "media",
            ):
                team, user = bench_team()
                report = {
                    "history_fragment": bench_history(team, user, options["generations"], options["requests"]),
                    "tracker": bench_tracker(
                        team, sandbox,
                        [int(load) for load in options["tracker_loads"].split(",")],
                        options["tracker_seconds"],
                    ),
                    "completion_to_stored": bench_completion(team, sandbox, options["completions"]),
                }
        self.stdout.write(json.dumps(report, indent=2))


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
