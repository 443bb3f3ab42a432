"""Keyed creates and replies as the vendor's newer clients read them, against the sandbox.

Issue 16 (items 4 and 5); CONTRACT.md says where each fact comes from.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.evolink.client import body_fingerprint, create_body
from playground.generations import lifecycle
from playground.generations.models import Generation, Status

from .accounting import assert_no_task_created_twice, forget_served_calls, served_calls
from .conftest import drive

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/v1/images/generations"


@pytest.fixture(autouse=True)
def fresh_record(sandbox):
    forget_served_calls(sandbox)


def generate(client, prompt="a lighthouse at dawn", n=1):
    client.post(reverse("studio:generate"), {"prompt": prompt, "size": "1:1", "n": n})
    return Generation.objects.get(prompt=prompt)


def creates(sandbox):
    return [call for call in served_calls(sandbox) if call["path"] == CREATE]


def details(client, generation, **headers):
    return client.get(reverse("studio:generation-detail", args=[generation.public_id]), **headers).text


# -- keyed creates -----------------------------------------------------------------------------


def test_the_retries_of_one_create_share_one_key(owner_client, sandbox, sandbox_faults):
    sandbox_faults(error_status=503, error_count=2)  # the client's own retries see it through
    generation = drive(generate(owner_client))

    assert generation.status == Status.COMPLETED
    sent = creates(sandbox)
    assert [call["status"] for call in sent] == [503, 503, 200]
    assert {call["idempotency_key"] for call in sent} == {generation.idempotency_key}
    assert generation.idempotency_key.startswith("run_")


def test_each_generation_has_a_key_of_its_own(owner_client, sandbox):
    first, second = generate(owner_client, "one"), generate(owner_client, "two")
    assert first.idempotency_key and second.idempotency_key
    assert first.idempotency_key != second.idempotency_key
    assert [call["idempotency_key"] for call in creates(sandbox)] == [first.idempotency_key, second.idempotency_key]


def test_a_create_sent_again_for_the_same_attempt_answers_the_first_task(owner_client, sandbox):
    """A worker that died after its create went out, before it wrote the task id: the next
    submit sends the same request under the same key, and no second task is started."""
    generation = generate(owner_client)
    first_task, key = generation.task_id, generation.idempotency_key
    assert first_task
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.SUBMITTING, task_id="", lease_until=None, lease_token="", next_check_at=timezone.now()
    )

    assert lifecycle.submit(generation.pk)
    generation = drive(Generation.objects.get(pk=generation.pk))

    assert (generation.status, generation.task_id, generation.idempotency_key) == (Status.COMPLETED, first_task, key)
    sent = creates(sandbox)
    assert [(call["status"], call["idempotency_key"], call["replayed"]) for call in sent] == [
        (200, key, False),
        (200, key, True),
    ]
    assert_no_task_created_twice(sandbox)
    assert generation.credits_charged == generation.credits_reserved  # billed once


def test_a_new_attempt_after_a_failed_one_gets_a_new_key(owner_client, sandbox, sandbox_faults, settings):
    """A create refused (503) past the client's retries puts the row back in the queue; the
    next submit is a new attempt, with a new key, though the request is the same."""
    settings.EVOLINK_MAX_RETRIES = 1
    sandbox_faults(error_status=503, error_count=2, retry_after=0)
    generation = generate(owner_client)
    assert generation.status == Status.QUEUED and generation.attempts == 1
    first_key = generation.idempotency_key

    generation = drive(generation)

    assert generation.status == Status.COMPLETED
    sent = creates(sandbox)
    assert [(call["status"], call["idempotency_key"]) for call in sent] == [
        (503, first_key),
        (503, first_key),
        (200, generation.idempotency_key),
    ]
    assert generation.idempotency_key not in (first_key, "")
    assert_no_task_created_twice(sandbox)


def test_a_dead_workers_attempt_is_continued_under_its_own_key(owner_client, sandbox, sandbox_faults, settings):
    """After a failed attempt, the next one's worker dies once its create went out: the
    worker taking the row over sends it again under that attempt's key (not the failed
    one's), and the service answers the task already made. Billed once."""
    settings.EVOLINK_MAX_RETRIES = 1
    sandbox_faults(error_status=503, error_count=2, retry_after=0)
    generation = generate(owner_client)
    failed_key = generation.idempotency_key
    assert lifecycle.submit(generation.pk)
    generation = Generation.objects.get(pk=generation.pk)
    task, key = generation.task_id, generation.idempotency_key
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.SUBMITTING, task_id="", lease_until=None, lease_token="", next_check_at=timezone.now()
    )

    assert lifecycle.submit(generation.pk)
    generation = drive(Generation.objects.get(pk=generation.pk))

    assert (generation.status, generation.task_id, generation.idempotency_key) == (Status.COMPLETED, task, key)
    assert key not in (failed_key, "")
    assert [(call["status"], call["idempotency_key"], call["replayed"]) for call in creates(sandbox)] == [
        (503, failed_key, False),
        (503, failed_key, False),
        (200, key, False),
        (200, key, True),
    ]
    assert_no_task_created_twice(sandbox)
    assert generation.credits_charged == generation.credits_reserved


def test_a_dead_workers_attempt_with_another_body_is_sent_under_a_new_key(owner_client, sandbox, settings):
    """The stored key goes only with the body it was sent with: here the callback address
    changed before the next worker took the row over. The old key with the new body would
    be refused (409) and fail the generation."""
    generation = generate(owner_client)
    first_task, key = generation.task_id, generation.idempotency_key
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.SUBMITTING, task_id="", lease_until=None, lease_token="", next_check_at=timezone.now()
    )
    settings.CALLBACK_BASE_URL = "https://playground.example.com"

    assert lifecycle.submit(generation.pk)
    generation = Generation.objects.get(pk=generation.pk)

    assert generation.status == Status.PENDING and generation.task_id not in ("", first_task)
    assert [(call["status"], call["idempotency_key"]) for call in creates(sandbox)] == [
        (200, key),
        (200, generation.idempotency_key),
    ]
    assert generation.idempotency_key != key


def test_a_key_is_reused_only_with_the_body_it_was_sent_with(team):
    body = create_body("x", size="1:1", n=1, image_urls=["https://h.test/a.png"], callback_url="https://cb.test/1")
    generation = Generation(team=team, prompt="x", idempotency_key="run_old", idempotency_body=body_fingerprint(body))
    assert lifecycle.attempt_key(generation, dict(reversed(body.items()))) == "run_old"
    for changed in (
        {"image_urls": ["https://h.test/b.png"]},
        {"callback_url": "https://cb.test/2"},
        {"mask_url": "https://h.test/m.png"},
        {"n": 2},
    ):
        assert lifecycle.attempt_key(generation, {**body, **changed}) not in ("run_old", "")
    generation.idempotency_body = ""  # a key stored without its body's digest is not reused
    assert lifecycle.attempt_key(generation, body) not in ("run_old", "")


# -- replies as newer clients read them -----------------------------------------------------------


def test_results_given_only_as_result_data_are_stored(owner_client, sandbox_faults):
    sandbox_faults(results_field="result_data")
    generation = drive(generate(owner_client, n=2))
    assert generation.status == Status.COMPLETED
    assert generation.images.count() == 2


def test_credits_used_on_the_finished_task_is_the_charge(owner_client, sandbox_faults):
    sandbox_faults(credits_used=True)
    generation = generate(owner_client, "two posters [sandbox:produce=1]", n=2)
    # A reservation unlike the price: the charge is the service's credits_used, 1.5 × 1 image.
    Generation.objects.filter(pk=generation.pk).update(credits_reserved=Decimal("10"))
    generation = drive(Generation.objects.get(pk=generation.pk))
    assert generation.status == Status.COMPLETED
    assert generation.credits_charged == Decimal("1.5")


def test_without_credits_used_the_charge_follows_the_reservation(owner_client):
    generation = generate(owner_client, "two posters [sandbox:produce=1]", n=2)
    Generation.objects.filter(pk=generation.pk).update(credits_reserved=Decimal("10"))
    assert drive(Generation.objects.get(pk=generation.pk)).credits_charged == Decimal("5")


@pytest.mark.parametrize("as_field", [False, True], ids=["header", "field"])
def test_the_request_id_is_kept_and_shown_on_the_details_page(owner_client, sandbox_faults, as_field):
    if as_field:
        sandbox_faults(request_id_field=True)
    generation = drive(generate(owner_client))
    assert generation.request_id.startswith("req_")
    html = details(owner_client, generation)
    assert "Request id at the service" in html and generation.request_id in html
    korean = details(owner_client, generation, HTTP_ACCEPT_LANGUAGE="ko")
    assert "Request id at the service" not in korean and generation.request_id in korean


@pytest.mark.parametrize("how", ["directive", "switch"])
def test_a_cancelled_task_ends_the_generation_cancelled_with_the_reason(owner_client, sandbox_faults, how):
    reason = "Stopped by the account's administrator"
    if how == "switch":
        sandbox_faults(cancel_reason=reason)
        generation = generate(owner_client)
    else:
        generation = generate(owner_client, f"a lighthouse [sandbox:cancel={reason}]")
    generation = drive(generation)

    assert (generation.status, generation.error_code) == (Status.CANCELLED, "request_cancelled")
    assert generation.error_message == f"The task was cancelled: {reason}"
    assert generation.credits_charged == 0
    assert f"The task was cancelled: {reason.replace("'", "&#x27;")}" in details(owner_client, generation)
