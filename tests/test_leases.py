"""The lease a step holds on its generation: kept while the step lives, and only its own."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from playground.generations import ingest, leases, lifecycle
from playground.generations.models import Generation, Status

from .conftest import make_generation

pytestmark = pytest.mark.django_db


def processing(team):
    return make_generation(team, status=Status.PROCESSING, task_id="task-1", next_check_at=timezone.now())


def test_a_renewal_after_the_step_released_the_row_changes_nothing(team):
    generation = Generation.objects.claim(processing(team).pk, [Status.PROCESSING], seconds=30)
    token = generation.lease_token
    lifecycle.release(generation, next_check_at=timezone.now())
    assert leases.renew(generation.pk, token, 30) is False
    assert Generation.objects.claim(generation.pk, [Status.PROCESSING], seconds=30) is not None


@pytest.mark.django_db(transaction=True)  # the step runs in a thread of its own
def test_a_step_longer_than_its_lease_keeps_the_row_and_then_gives_it_up(team, settings):
    settings.LEASE_SECONDS = 1  # renewed every third of a second
    generation = processing(team)
    inside, finish = threading.Event(), threading.Event()

    @leases.step([Status.PROCESSING])
    def slow_step(held):
        inside.set()
        finish.wait(10)

    worker = threading.Thread(target=slow_step, args=(generation.pk,))
    worker.start()
    assert inside.wait(10)
    time.sleep(2.5)  # two and a half leases
    assert Generation.objects.claim(generation.pk, [Status.PROCESSING], seconds=30) is None
    finish.set()
    worker.join(10)


def test_a_step_that_lost_its_lease_does_not_send_the_task(team, settings):
    generation = make_generation(team, next_check_at=timezone.now())
    held = Generation.objects.claim(generation.pk, [Status.QUEUED], seconds=-1)  # already run out
    assert Generation.objects.claim(generation.pk, [Status.QUEUED], seconds=30) is not None
    with pytest.raises(leases.LeaseLost):
        leases.still_held(held)


def test_a_tracker_does_not_poll_a_row_another_just_polled(team):
    generation = make_generation(team, status=Status.PROCESSING, task_id="task-1",
                                 next_check_at=timezone.now() + timedelta(seconds=5))
    assert lifecycle.poll(generation.pk, due=True) is False
    generation.refresh_from_db()
    assert generation.lease_token == ""


@pytest.mark.usefixtures("sandbox")
@pytest.mark.django_db(transaction=True)  # its queue jobs are sent when the transaction commits
def test_storage_that_fails_for_a_while_is_tried_again_not_failed(team, owner, monkeypatch):
    generation = make_generation(team, owner, next_check_at=timezone.now())
    assert lifecycle.submit(generation.pk)
    saves = []

    def unavailable(*args, **kwargs):
        saves.append(args)
        raise OSError("storage unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(ingest.default_storage, "save", unavailable)
        from .children import wait_for

        def ingesting():  # its ingest job runs inline, and fails
            lifecycle.poll(generation.pk)
            generation.refresh_from_db()
            return generation.status == Status.INGESTING

        wait_for(ingesting, 30, lambda: f"still {generation.status}, not ingesting")
        ingest.ingest(generation.pk)
        generation.refresh_from_db()
        assert saves and generation.status == Status.INGESTING and generation.next_check_at > timezone.now()
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now())
    assert ingest.ingest(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED and generation.images.count() == 1
