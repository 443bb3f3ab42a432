"""Two trackers and two queue workers at once, as separate processes, on whichever setup
the run is on: CI runs this on the embedded default and again on PostgreSQL, Redis and S3.

Nothing is polled by two at once, nothing is stored twice, and the work of one that dies
is taken over within LEASE_SECONDS (30 s by default).
"""

import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Success

from devtools.processes import child_env
from playground.generations.models import Generation, Status

from .children import still_running, wait_for
from .storage import generation_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox"), pytest.mark.processes]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def start(sandbox):
    """Start `manage.py <args>` as the app's own process; all are stopped after the test."""
    # Jobs earlier tests left in the broker (Redis outlives each test's database) would run
    # in this test's queue workers and count among its jobs.
    get_broker().purge_queue()
    processes = []

    def start(*args, **env):
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR,
            env=child_env(sandbox, TRACKER_MIN_INTERVAL=0.2, **env),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def calls(sandbox):
    """The upstream calls the sandbox serves during the test."""
    url, headers = f"{sandbox.url}/_sandbox/calls", sandbox.headers
    httpx.delete(url, headers=headers).raise_for_status()
    return lambda: httpx.get(url, headers=headers).json()["calls"]


def overlapping(intervals):
    intervals = sorted(intervals)
    return [(a, b) for a, b in zip(intervals, intervals[1:], strict=False) if b[0] < a[1]]


def test_two_trackers_and_two_workers_finish_a_batch_polling_and_storing_each_once(
    owner_client, team, sandbox, sandbox_faults, start, calls, monkeypatch, settings
):
    # Jobs go to the real broker (the database, or Redis on the scale setup), and the
    # trackers leave queued rows to the workers for a minute: the workers must do them.
    monkeypatch.setattr(Conf, "SYNC", False)
    settings.STALL_SECONDS = 60
    start("qcluster", Q_WORKERS=2, STALL_SECONDS=60)
    start("track", STALL_SECONDS=60)
    start("track", STALL_SECONDS=60)
    sandbox_faults(slow_seconds=0.3)  # every reply takes a while, so two pollers would overlap

    sizes = [1, 2, 4, 1, 2, 4, 1, 2]
    for index, n in enumerate(sizes):
        form = {"prompt": f"harbour {index} [sandbox:seconds=2]", "size": "1:1", "n": n}
        assert owner_client.post(reverse("studio:generate"), form, **HTMX).status_code == 200

    wait_for(lambda: not still_running(), 120, still_running)

    polls, downloads = defaultdict(list), defaultdict(int)
    for call in calls():
        if call["method"] == "GET" and call["path"].startswith("/v1/tasks/"):
            polls[call["path"]].append((call["started"], call["ended"]))
        elif call["path"].startswith("/results/"):
            downloads[call["path"]] += 1
    generations = list(Generation.objects.filter(team=team))
    assert len(generations) == len(sizes)
    for generation in generations:
        assert generation.status == Status.COMPLETED, generation.error_message
        assert generation.images.count() == generation.n
        assert len(generation_files(generation)) == 2 * generation.n
        assert generation.credits_charged == generation.credits_reserved
        assert overlapping(polls[f"/v1/tasks/{generation.task_id}"]) == []
        for index in range(generation.n):
            assert downloads[f"/results/{generation.task_id}/{index}.png"] == 1
    # The queue workers, not the trackers' safety net, submitted every generation.
    submits = Success.objects.filter(func="playground.generations.lifecycle.submit")
    assert [job.result for job in submits] == [True] * len(sizes)


def test_a_dead_trackers_polls_are_taken_over_within_the_lease(team, owner, sandbox, sandbox_faults, start):
    # A lease of 12 s instead of the default 30 keeps the test short; the rule is the same.
    lease = 12
    generations = [
        Generation.objects.create(
            team=team, created_by=owner, prompt=f"kite {index}", size="1:1", n=1, status=Status.PROCESSING,
            task_id=upstream_task(sandbox, f"kite {index}"), submitted_at=timezone.now(),
            next_check_at=timezone.now(),
        )
        for index in range(3)
    ]
    sandbox_faults(slow_seconds=9.5)  # the first tracker's polls take long (they time out at 10 s)...
    first = start("track", LEASE_SECONDS=lease)

    def leases():
        held = Generation.objects.filter(lease_token__gt="").values_list("pk", "lease_token", "lease_until")
        return {pk: (token, until) for pk, token, until in held} if len(held) == len(generations) else None

    claimed = wait_for(leases, 30, still_running)
    time.sleep(lease / 3 + 1)
    # ...and while it lives, its heartbeat renews the leases, so nobody else takes them.
    renewed = leases()
    assert renewed, "the first tracker let go of a row while its poll went on"
    assert {pk: token for pk, (token, _) in renewed.items()} == {pk: token for pk, (token, _) in claimed.items()}
    assert all(renewed[pk][1] > until for pk, (_, until) in claimed.items())

    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = timezone.now()
    runs_out_at = max(until for _, until in Generation.objects.values_list("pk", "lease_until"))
    assert runs_out_at - killed_at <= timedelta(seconds=lease)
    sandbox_faults(slow_seconds=0)
    start("track", LEASE_SECONDS=lease)

    def taken_over():
        tokens = dict(Generation.objects.values_list("pk", "lease_token"))
        return all(tokens[pk] != token for pk, (token, _) in claimed.items())

    wait_for(taken_over, lease + 10, lambda: f"not taken over {lease + 10} s after the kill")
    # Taken over once the dead tracker's leases ran out, within a few tracker passes.
    assert timezone.now() - runs_out_at < timedelta(seconds=3)
    wait_for(lambda: not still_running(), 60, still_running)
    for generation in generations:
        generation.refresh_from_db()
        assert generation.status == Status.COMPLETED, generation.error_message
        assert generation.images.count() == 1


def upstream_task(sandbox, prompt):
    body = {"model": "gpt-4o-image", "prompt": prompt, "n": 1}
    reply = httpx.post(f"{sandbox.url}/v1/images/generations", json=body, headers=sandbox.headers)
    reply.raise_for_status()
    return reply.json()["id"]
