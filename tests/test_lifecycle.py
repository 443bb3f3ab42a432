"""Rules of the generation lifecycle, with the upstream client as the one patched point."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playground.evolink.client import Task
from playground.generations import lifecycle
from playground.generations.models import Generation, Status

from .conftest import make_generation

pytestmark = pytest.mark.django_db


class StubClient:
    def __init__(self, task):
        self.task = task
        self.calls = 0

    def get_task(self, task_id):
        self.calls += 1
        return self.task


@pytest.fixture
def upstream_says(monkeypatch):
    def answer(task):
        stub = StubClient(task)
        monkeypatch.setattr(lifecycle, "client_from", lambda account, polling=False: stub)
        return stub

    return answer


def in_flight(team, **fields):
    defaults = {"status": Status.PROCESSING, "task_id": "task-1", "submitted_at": timezone.now(),
                "next_check_at": timezone.now()}
    return make_generation(team, **{**defaults, **fields})


def test_a_completed_task_without_results_fails_with_a_sentence(team, upstream_says):
    upstream_says(Task(id="task-1", status="completed", progress=100, results=[]))
    generation = in_flight(team)
    assert lifecycle.poll(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.error_code == "generation_failed_no_content"
    assert "produced no image" in generation.error_message


def test_a_task_pending_for_more_than_24_hours_expires_without_asking_again(team, upstream_says):
    stub = upstream_says(Task(id="task-1", status="pending"))
    generation = in_flight(team, status=Status.PENDING, submitted_at=timezone.now() - timedelta(hours=25))
    lifecycle.poll(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.EXPIRED
    assert "within 24 hours" in generation.error_message
    assert stub.calls == 0


def test_a_worker_that_lost_its_lease_cannot_overwrite_its_successor(team, upstream_says):
    upstream_says(Task(id="task-1", status="processing", progress=50))
    generation = in_flight(team)
    slow = Generation.objects.claim(generation.pk, [Status.PROCESSING], seconds=-1)  # already run out
    successor = Generation.objects.claim(generation.pk, [Status.PROCESSING], seconds=30)
    assert successor is not None
    with pytest.raises(lifecycle.LeaseLost):
        lifecycle.finish(slow, Status.FAILED, message="stale")
    lifecycle.poll_once(successor)
    generation.refresh_from_db()
    assert generation.status == Status.PROCESSING and generation.progress == 50


def test_a_row_held_by_someone_else_is_left_alone(team):
    generation = in_flight(team)
    assert Generation.objects.claim(generation.pk, [Status.PROCESSING], seconds=30)
    assert Generation.objects.claim(generation.pk, [Status.PROCESSING], seconds=30) is None
    assert lifecycle.poll(generation.pk) is False


def test_a_step_that_keeps_crashing_gives_up_after_the_attempt_cap(team, settings):
    settings.MAX_ATTEMPTS = 3
    generation = make_generation(team, status=Status.SUBMITTING, attempts=3, next_check_at=timezone.now())
    assert lifecycle.submit(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert "after several attempts" in generation.error_message


def test_a_stored_error_is_shown_in_the_readers_language(owner_client, team):
    from django.urls import reverse

    make_generation(team, status=Status.FAILED, error_code="quota_exceeded",
                    error_message="The account's quota is used up for now. Try again later.")
    html = owner_client.get(reverse("studio:history"), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "계정 할당량을 모두 사용했습니다. 나중에 다시 시도해 주세요." in html
    assert "The account's quota" not in html.replace("&#x27;", "'")
    assert "lang=\"ko\"" in owner_client.get(reverse("studio:playground"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()


@pytest.mark.parametrize("credits_used", [float("nan"), float("inf"), "1e13", -5, "123456789012345"])
def test_a_finished_task_with_an_unbelievable_charge_is_charged_by_its_reservation(team, upstream_says, credits_used):
    """Stored, such a figure would fail every poll until the 24-hour deadline, or lower the
    month's spending: it is ignored, and the reservation stands in (`credits.charge`)."""
    reply = {"id": "task-1", "status": "completed", "results": ["https://x.test/1.png"],
             "usage": {"credits_used": credits_used}}
    upstream_says(Task.from_reply(reply))
    generation = in_flight(team, n=1, credits_reserved="1.5")
    assert lifecycle.poll(generation.pk)
    generation.refresh_from_db()
    assert (generation.status, generation.credits_charged) == (Status.INGESTING, None)
