"""The team's line through the pages, against the sandbox: waiting, "N ahead", cancelling,
and admitters racing each other."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from playground.generations import credits, lifecycle, queue
from playground.generations.models import Generation, Lane, Status

from .conftest import drive, make_generation, make_user
from .test_bad_input import snapshot
from .test_budgets import generate, set_team_budget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def statuses(team):
    return sorted(Generation.objects.filter(team=team).values_list("status", flat=True))


def history_panel(client):
    return client.get(reverse("studio:playground")).text


def cancel(client, generation, **data):
    return client.post(reverse("studio:generation-cancel", args=[generation.public_id]), data, follow=True)


def test_past_the_cap_generations_wait_then_all_complete(owner_client, team, settings):
    settings.TEAM_TASKS_IN_FLIGHT = 2
    for _ in range(4):
        assert generate(owner_client).status_code == 200

    assert statuses(team) == [Status.PENDING] * 2 + [Status.WAITING] * 2
    page = history_panel(owner_client)
    panel = re.findall(r'history-waiting">\s*<span class="meta">waiting \((\d+) ahead\)', page)
    assert panel == ["1", "0"]  # the newest first
    card = re.findall(r'class="meta progress-text">waiting \((\d+) ahead\)', page)
    assert card == ["1"]  # the card of the newest one, under the composer

    for generation in Generation.objects.filter(team=team).order_by("created_at"):
        drive(generation)
    assert statuses(team) == [Status.COMPLETED] * 4
    assert max(Generation.objects.filter(team=team).values_list("admitted_at", flat=True))


def test_cancelling_a_waiting_generation_sends_and_charges_nothing(owner_client, team, owner, settings, sandbox):
    settings.TEAM_TASKS_IN_FLIGHT = 1
    set_team_budget(team, "4")
    generate(owner_client)  # sent: 1.5 reserved
    before = snapshot(sandbox)
    generate(owner_client)  # waits: 1.5 reserved too
    waiting = Generation.objects.get(status=Status.WAITING)
    assert credits.budgets_left(team, owner)["team"]["left"] == Decimal("1")

    details = owner_client.get(reverse("studio:generation-detail", args=[waiting.public_id])).text
    assert "It is waiting its turn (0 ahead)" in details
    page = cancel(owner_client, waiting)

    assert "nothing was sent or charged" in page.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Status.CANCELLED and waiting.credits_charged == 0 and not waiting.task_id
    assert waiting.error_message == "Cancelled before it was sent."
    assert credits.budgets_left(team, owner)["team"]["left"] == Decimal("2.5")
    assert snapshot(sandbox) == before  # no task, no upload, no credits spent upstream


def test_a_generation_already_let_out_is_not_cancelled(owner_client, team, owner):
    generate(owner_client)
    sent = Generation.objects.get()
    page = cancel(owner_client, sent, next=reverse("studio:playground"))
    assert "had already been sent, so it goes on" in page.content.decode()
    assert page.redirect_chain[-1][0] == reverse("studio:playground")
    sent.refresh_from_db()
    assert sent.status == Status.PENDING


def test_only_its_maker_owners_and_admins_may_cancel(team, owner, settings):
    settings.TEAM_TASKS_IN_FLIGHT = 0
    maker, other = make_user("ana", team), make_user("ben", team)
    clients = {}
    for person in (maker, other, owner):
        clients[person] = Client()
        clients[person].force_login(person)
    generate(clients[maker])
    generate(clients[maker])
    first, second = Generation.objects.order_by("created_at")

    assert 'class="history-cancel"' not in history_panel(clients[other])
    assert cancel(clients[other], first).status_code == 403
    assert Generation.objects.get(pk=first.pk).status == Status.WAITING

    assert history_panel(clients[maker]).count('class="history-cancel"') == 2
    cancel(clients[maker], first)
    cancel(clients[owner], second)
    assert statuses(team) == [Status.CANCELLED] * 2


def test_two_admitters_at_once_never_pass_the_cap(team, monkeypatch, settings):
    """Both read the team's in-flight count before either lets anything out, unless the team's
    row is locked."""
    from .races import racing

    settings.TEAM_TASKS_IN_FLIGHT = 3
    monkeypatch.setattr(queue, "enqueue_submit", lambda pk: None)  # only the admitting races here
    for _ in range(8):
        make_generation(team, status=Status.WAITING, lane=Lane.BATCH)

    answers = racing([lambda: queue.admit(team)] * 2, Generation._meta.db_table, monkeypatch)

    assert sorted(len(answer) for answer in answers) == [0, 3], answers
    assert Generation.objects.filter(status=Status.QUEUED).count() == 3


def test_a_new_generation_and_an_admitter_at_once_never_pass_the_cap(team, owner, monkeypatch, settings):
    """The create and the admitter both read that the team has room for 2 before either
    writes, unless the team's row is locked: then 2 let out and 1 sent at once make 3."""
    from .races import racing

    settings.TEAM_TASKS_IN_FLIGHT = 2
    monkeypatch.setattr(queue, "enqueue_submit", lambda pk: None)  # only the admitting races here
    monkeypatch.setattr(lifecycle, "enqueue_submit", lambda pk: None)
    for _ in range(2):
        make_generation(team, status=Status.WAITING, lane=Lane.BATCH)

    def click():
        return lifecycle.create(team, owner, prompt="a kite", size="1:1", n=1).status

    answers = racing([lambda: queue.admit(team), click], Generation._meta.db_table, monkeypatch)

    assert not [answer for answer in answers if isinstance(answer, Exception)], answers
    assert Generation.objects.filter(status=Status.QUEUED).count() == 2
    assert Generation.objects.filter(status=Status.WAITING).count() == 1
