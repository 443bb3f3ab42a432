"""The operators' admin deletes generations through the generation operations: the row and
its cost stay, running ones are spared, each deletion is logged; the rows are read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from playground.generations.models import Generation, Status
from playground.teams.models import AuditEvent

from .conftest import make_generation

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:generations_generation_changelist")


@pytest.fixture
def operator_client(client):
    operator = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(operator)
    return client


def delete_action(client, *generations):
    data = {"action": "delete_generations", "_selected_action": [g.pk for g in generations]}
    return client.post(CHANGELIST, data, follow=True)


def test_djangos_bulk_delete_is_not_offered(operator_client, team, owner):
    make_generation(team, owner, status=Status.COMPLETED)

    page = operator_client.get(CHANGELIST)

    actions = [value for value, _label in page.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert "delete_generations" in actions


def test_the_delete_action_keeps_the_row_and_its_cost_and_logs_it(operator_client, team, owner):
    done = make_generation(team, owner, prompt="a red bicycle", status=Status.COMPLETED, credits_charged=3)
    running = make_generation(team, owner, prompt="a blue kite", status=Status.PROCESSING)

    page = delete_action(operator_client, done, running)

    assert page.status_code == 200
    done.refresh_from_db()
    assert (done.deleted_at is not None, done.prompt, done.credits_charged) == (True, "", 3)
    assert Generation.objects.get(pk=running.pk).deleted_at is None
    event = AuditEvent.objects.get(action=AuditEvent.Action.GENERATION_DELETED)
    assert (event.team, event.actor.username, event.target) == (team, "root", "a red bicycle")
    shown = [str(message) for message in page.context["messages"]]
    assert "Deleted 1 generation." in shown
    assert "1 generation is still running and was not deleted." in shown


def test_a_generation_cannot_be_changed_or_deleted_outright(operator_client, team, owner):
    generation = make_generation(team, owner, prompt="a red bicycle", status=Status.COMPLETED)
    change = reverse("admin:generations_generation_change", args=[generation.pk])

    operator_client.post(change, {"prompt": "something else", "status": Status.FAILED})
    refused = operator_client.post(reverse("admin:generations_generation_delete", args=[generation.pk]), {"post": "yes"})

    assert refused.status_code == 403
    generation.refresh_from_db()
    assert (generation.prompt, generation.status, generation.deleted_at) == ("a red bicycle", Status.COMPLETED, None)
    assert b'name="prompt"' not in operator_client.get(change).content
