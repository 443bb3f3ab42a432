"""Kill any process at any moment and restart: every unfinished generation resumes."""

import signal
import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from playground.generations.ingest import fetch, store_result
from playground.generations.models import RUNNING, Generation, Status
from playground.generations.tracker import Tracker

from .children import manage
from .conftest import make_generation
from .storage import generation_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox"), pytest.mark.processes]


def upstream_task(sandbox, prompt="a kite", n=1, seconds=None):
    body = {"model": "gpt-4o-image", "prompt": prompt + (f" [sandbox:seconds={seconds}]" if seconds else ""), "n": n}
    reply = httpx.post(f"{sandbox.url}/v1/images/generations", json=body, headers=sandbox.headers)
    reply.raise_for_status()
    return reply.json()["id"]


def wait_until_all_finished(timeout=60, step=None):
    deadline = time.monotonic() + timeout
    while Generation.objects.filter(status__in=RUNNING).exists():
        assert time.monotonic() < deadline, list(Generation.objects.values_list("status", "error_message"))
        if step:
            step()
        time.sleep(0.1)


def test_rows_left_behind_by_killed_processes_all_complete(team, owner, sandbox):
    expired_lease = timezone.now() - timedelta(seconds=1)
    never_picked_up = make_generation(team, owner, next_check_at=expired_lease)
    killed_mid_submit = make_generation(
        team, owner, status=Status.SUBMITTING, lease_until=expired_lease, next_check_at=expired_lease
    )
    killed_mid_poll = make_generation(
        team, owner, status=Status.PROCESSING, task_id=upstream_task(sandbox), submitted_at=timezone.now(),
        lease_until=expired_lease, next_check_at=expired_lease,
    )
    killed_mid_download = make_generation(team, owner, n=2, task_id=upstream_task(sandbox, n=2))
    while not (task := _completed_task(sandbox, killed_mid_download.task_id)):
        time.sleep(0.2)
    Generation.objects.filter(pk=killed_mid_download.pk).update(
        status=Status.INGESTING, result_urls=task["results"], lease_until=expired_lease, next_check_at=expired_lease
    )
    with httpx.Client() as http:  # the first of two images had been stored before the kill
        store_result(killed_mid_download, 0, fetch(http, task["results"][0]))

    tracker = Tracker()
    wait_until_all_finished(step=tracker.run_once)
    tracker.pool.shutdown(wait=True)

    for generation in (never_picked_up, killed_mid_submit, killed_mid_poll, killed_mid_download):
        generation.refresh_from_db()
        assert generation.status == Status.COMPLETED, generation.error_message
        assert generation.images.count() == generation.n
        assert len(generation_files(generation)) == 2 * generation.n  # each image and thumbnail once


def _completed_task(sandbox, task_id):
    task = httpx.get(f"{sandbox.url}/v1/tasks/{task_id}", headers=sandbox.headers).json()
    return task if task["status"] == "completed" else None


def start_tracker(sandbox):
    return manage(sandbox, "track")


def test_a_tracker_killed_mid_task_is_replaced_and_nothing_is_lost_or_doubled(team, owner, sandbox):
    generations = [
        make_generation(team, owner, prompt=f"kite {i} [sandbox:seconds=3]", n=2, next_check_at=timezone.now())
        for i in range(6)
    ]
    first = start_tracker(sandbox)
    try:
        deadline = time.monotonic() + 30
        while not Generation.objects.filter(status__in=[Status.PROCESSING, Status.PENDING]).exists():
            assert time.monotonic() < deadline, "the tracker never submitted anything"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert Generation.objects.filter(status__in=RUNNING).exists()  # killed with work in flight
    finally:
        first.kill()

    second = start_tracker(sandbox)
    try:
        wait_until_all_finished(timeout=90)
    finally:
        second.terminate()
        second.wait(10)

    for generation in generations:
        generation.refresh_from_db()
        assert generation.status == Status.COMPLETED, generation.error_message
        assert generation.images.count() == 2
        assert len(generation_files(generation)) == 4


def test_the_tracker_finishes_work_and_stops_cleanly_on_sigterm(team, owner, sandbox):
    generation = make_generation(team, owner, next_check_at=timezone.now())
    tracker = start_tracker(sandbox)
    try:
        wait_until_all_finished(timeout=30)
    finally:
        tracker.terminate()
        assert tracker.wait(10) == 0
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
