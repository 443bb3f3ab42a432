"""The gateway's budgets, limits and keyed creates: a script meets the page's budgets, its
token's limits (shared by every web process, so kept in the database) and the vendor's
Idempotency-Key rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playground.gateway.models import KeyedCreate, RequestCount
from playground.generations.models import Generation, Status

from .conftest import make_generation
from .gateway import Script, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_and_script(client, team, teammate):
    token, plain = issue(team, teammate)
    return token, Script(client, plain)


def assert_refused_for_credits(reply, words, made_before=0):
    assert reply.status_code == 402
    error = reply.json()["error"]
    assert error["type"] == "insufficient_quota"
    assert words in error["message"]
    assert Generation.objects.filter(token__isnull=False).count() == made_before


def test_the_teams_budget_applies(token_and_script, team):
    team.monthly_budget = 2
    team.save()
    assert_refused_for_credits(token_and_script[1].create(n=2), "the team's monthly budget has 2 of 2 credits left")


def test_the_members_budget_applies(token_and_script, team, teammate):
    team.memberships.filter(user=teammate).update(monthly_budget=1)
    assert_refused_for_credits(token_and_script[1].create(), "your monthly budget has 1 of 1 credits left")


def test_the_tokens_cap_applies_and_counts_only_its_own_work(client, team, teammate):
    token, plain = issue(team, teammate, monthly_cap=3)
    make_generation(team, teammate, credits_estimated=10)  # on the page: not the token's
    script = Script(client, plain)
    assert script.create(n=2).status_code == 200
    assert_refused_for_credits(script.create(), "the token “notebook” has 0 of 3 credits left", 1)


def test_requests_past_the_minutes_limit_are_a_429_with_retry_after(token_and_script, settings):
    settings.GATEWAY_REQUESTS_PER_MINUTE = 3
    _token, script = token_and_script
    assert [script.get("/v1/credits").status_code for _ in range(3)] == [200, 200, 200]
    refused = script.get("/v1/credits")
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_the_minutes_count_is_per_token_and_kept_in_the_database(client, team, teammate, settings):
    settings.GATEWAY_REQUESTS_PER_MINUTE = 1
    first, first_plain = issue(team, teammate, name="one")
    _second, second_plain = issue(team, teammate, name="two")
    assert Script(client, first_plain).get("/v1/credits").status_code == 200
    assert Script(client, second_plain).get("/v1/credits").status_code == 200
    # Another web process counted this token's minute: what this one sees is the database's.
    RequestCount.objects.filter(token=first).update(count=0)
    assert Script(client, first_plain).get("/v1/credits").status_code == 200
    assert Script(client, first_plain).get("/v1/credits").status_code == 429


def test_a_new_minute_starts_a_new_count(token_and_script, settings):
    settings.GATEWAY_REQUESTS_PER_MINUTE = 1
    token, script = token_and_script
    assert script.get("/v1/credits").status_code == 200
    assert script.get("/v1/credits").status_code == 429
    RequestCount.objects.filter(token=token).update(minute=timezone.now() - timedelta(minutes=2))
    assert script.get("/v1/credits").status_code == 200
    assert RequestCount.objects.filter(token=token).count() == 1  # the old minute is forgotten


def test_the_minute_before_is_kept_for_a_process_still_counting_it(token_and_script, settings):
    """A process that counted a request in one minute reads that minute's row back: another,
    already in the next minute, must not have deleted it in between."""
    settings.GATEWAY_REQUESTS_PER_MINUTE = 5
    token, script = token_and_script
    assert script.get("/v1/credits").status_code == 200
    RequestCount.objects.filter(token=token).update(minute=timezone.now() - timedelta(minutes=1))
    assert script.get("/v1/credits").status_code == 200
    assert RequestCount.objects.filter(token=token).count() == 2


def test_tasks_in_flight_past_the_limit_are_a_429_with_retry_after(token_and_script, team, teammate, settings):
    settings.GATEWAY_TASKS_IN_FLIGHT = 2
    token, script = token_and_script
    assert script.create().status_code == 200
    assert script.create().status_code == 200
    refused = script.create()
    assert refused.status_code == 429
    assert "2 tasks in progress" in refused.json()["error"]["message"]
    assert refused["Retry-After"].isdigit()
    assert Generation.objects.filter(token=token).count() == 2
    Generation.objects.filter(token=token).update(status=Status.COMPLETED)
    assert script.create().status_code == 200


def test_the_same_key_and_body_answer_the_same_task(token_and_script):
    token, script = token_and_script
    first = script.post(
        "/v1/images/generations", {"model": "gpt-4o-image", "prompt": "a cat"}, **{"Idempotency-Key": "run_1"}
    )
    again = script.post(
        "/v1/images/generations", {"model": "gpt-4o-image", "prompt": "a cat"}, **{"Idempotency-Key": "run_1"}
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Generation.objects.filter(token=token).count() == 1


def test_the_same_key_with_another_body_is_a_409(token_and_script):
    _token, script = token_and_script
    script.post("/v1/images/generations", {"model": "gpt-4o-image", "prompt": "a cat"}, **{"Idempotency-Key": "k"})
    reply = script.post("/v1/images/generations", {"model": "gpt-4o-image", "prompt": "a dog"}, **{"Idempotency-Key": "k"})
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "idempotency_key_reused"
    assert Generation.objects.count() == 1


def test_a_key_is_free_again_after_24_hours(token_and_script):
    token, script = token_and_script
    body = {"model": "gpt-4o-image", "prompt": "a cat"}
    first = script.post("/v1/images/generations", body, **{"Idempotency-Key": "daily"}).json()["id"]
    KeyedCreate.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    second = script.post("/v1/images/generations", body, **{"Idempotency-Key": "daily"}).json()["id"]
    assert first != second
    assert Generation.objects.filter(token=token).count() == 2


def test_keys_are_per_token(client, team, teammate):
    body = {"model": "gpt-4o-image", "prompt": "a cat"}
    one = Script(client, issue(team, teammate, name="one")[1])
    two = Script(client, issue(team, teammate, name="two")[1])
    first = one.post("/v1/images/generations", body, **{"Idempotency-Key": "same"}).json()["id"]
    second = two.post("/v1/images/generations", body, **{"Idempotency-Key": "same"}).json()["id"]
    assert first != second


def test_a_create_without_a_key_is_a_new_task_each_time(token_and_script):
    token, script = token_and_script
    script.create()
    script.create()
    assert Generation.objects.filter(token=token).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_creates_at_once_cannot_both_take_the_last_place_in_flight(team, teammate, settings, monkeypatch):
    """Both read "no task running" before either writes, unless the token's row is locked."""
    from django.test import Client

    from .races import racing

    settings.GATEWAY_TASKS_IN_FLIGHT = 1
    token, plain = issue(team, teammate)

    def create():
        return Script(Client(), plain).create().status_code

    answers = racing([create, create], Generation._meta.db_table, monkeypatch)
    assert sorted(answers) == [200, 429], answers
    assert Generation.objects.filter(token=token).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_creates_at_once_with_one_key_make_one_task(team, teammate, monkeypatch):
    from django.test import Client

    from .races import racing

    token, plain = issue(team, teammate)
    body = {"model": "gpt-4o-image", "prompt": "a cat"}

    def create():
        reply = Script(Client(), plain).post("/v1/images/generations", body, **{"Idempotency-Key": "once"})
        return reply.status_code, reply.json()["id"]

    answers = racing([create, create], Generation._meta.db_table, monkeypatch)
    assert [status for status, _id in answers] == [200, 200], answers
    assert answers[0][1] == answers[1][1]
    assert Generation.objects.filter(token=token).count() == 1
