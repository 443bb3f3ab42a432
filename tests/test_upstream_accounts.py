"""Which account a team's work goes through, and that a task stays with the account it
was sent through whatever happens to the team's key meanwhile."""

import pytest
from django.urls import reverse

from playground.generations import ingest
from playground.generations.models import Generation, Reference, Status
from playground.teams import encryption
from playground.teams.upstream import Account, account_for

from .conftest import drive, make_generation
from .images import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

HTMX = {"HX-Request": "true"}


def generate(client, **fields):
    data = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": "1", **fields}
    return client.post(reverse("studio:generate"), data, headers=HTMX)


def test_a_running_generation_keeps_polling_the_account_it_was_sent_through(
    owner_client, team, keyed_sandbox, settings
):
    settings.SANDBOX_URL = keyed_sandbox.url  # the team's base URL passes as the sandbox's
    team.set_api_key(keyed_sandbox.api_key)
    team.api_base_url = keyed_sandbox.url
    team.save()
    generate(owner_client)
    generation = Generation.objects.get()
    assert generation.status == Status.PENDING

    team.set_api_key("")  # removed while the task runs: the team now falls back elsewhere
    team.save()
    drive(generation)

    assert generation.status == Status.COMPLETED
    assert generation.images.count() == 1
    assert generation.account_encrypted == ""  # the sealed account is dropped once it ends


def test_the_sealed_account_never_shows_its_key(keyed_sandbox):
    account = Account(keyed_sandbox.url, keyed_sandbox.url, "team", keyed_sandbox.api_key)
    sealed = account.sealed()
    assert keyed_sandbox.api_key not in sealed
    assert keyed_sandbox.api_key not in repr(account)
    assert Account.unsealed(sealed) == account


def test_the_deployment_key_serves_only_the_teams_an_operator_allowed(team, settings):
    settings.EVOLINK_API_KEY = "sk-evo-deployment"
    assert account_for(team).source == "sandbox"
    team.may_use_deployment_key = True
    assert account_for(team).source == "deployment"
    team.set_api_key("sk-evo-teamsownkey")
    assert account_for(team).source == "team"


def test_a_new_team_made_on_the_page_cannot_spend_the_deployment_key(owner_client, settings):
    settings.EVOLINK_API_KEY = "sk-evo-deployment"
    owner_client.post(reverse("teams:create"), {"name": "Side project"})
    generate(owner_client)
    generation = Generation.objects.get()
    assert generation.team.name == "Side project"
    assert account_for(generation.team).source == "sandbox"


def test_a_key_that_can_no_longer_be_decrypted_fails_the_generation_in_words(owner_client, team):
    team.api_key_encrypted = "gAAAAAB-not-a-token-we-can-read"
    team.save()
    generate(owner_client)
    generation = drive(Generation.objects.get())

    assert generation.status == Status.FAILED
    assert "can no longer be read" in generation.error_message
    assert owner_client.get(reverse("studio:usage")).status_code == 200
    code = owner_client.post(reverse("studio:code"), {"prompt": "a cat", "size": "1:1", "n": "1"}, headers=HTMX)
    assert code.status_code == 200


def test_a_generate_from_a_page_opened_for_another_team_reloads_it_and_sends_nothing(owner_client, other_team):
    response = generate(owner_client, team=str(other_team.pk))
    assert response.headers["HX-Refresh"] == "true"
    assert Generation.objects.count() == 0
    page = owner_client.get(reverse("studio:playground")).text
    assert "You switched to Acme studio in another tab, so nothing was sent." in page


def test_an_upload_from_a_page_opened_for_another_team_stores_nothing(owner_client, other_team):
    response = owner_client.post(
        reverse("studio:references"), {"team": str(other_team.pk), "images": [upload("a.png")]}, headers=HTMX
    )
    assert response.headers["HX-Refresh"] == "true"
    assert Reference.objects.count() == 0


# -- result links (the rules themselves: tests/test_guarded_fetch.py) ---------------------


def test_a_refused_result_link_fails_the_generation_and_is_never_fetched(team, sandbox):
    team.set_api_key("sk-evo-somewhere")
    team.api_base_url = "https://api.example.com"
    team.save()
    generation = make_generation(
        team, status=Status.INGESTING, task_id="task-1", result_urls=[f"{sandbox.url}/results/x/0.png"]
    )
    assert ingest.ingest(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.error_message == "The service sent a result link this server will not open."
    assert generation.images.count() == 0



def test_without_a_key_or_a_sandbox_a_team_is_told_to_set_a_key(owner_client, team, settings):
    settings.USE_SANDBOX = False
    generate(owner_client)
    generation = drive(Generation.objects.get())

    assert generation.status == Status.FAILED
    assert "This team has no EvoLink key yet." in generation.error_message
    assert "no key, and this deployment runs no sandbox" in owner_client.get(reverse("studio:key")).text


def test_only_a_teams_own_key_is_sealed_with_its_tasks(settings):
    settings.EVOLINK_API_KEY = "sk-evo-deployment-secret"
    deployment = Account("https://api.example.com", "https://files.example.com", "deployment", "sk-evo-deployment-secret")
    sealed = deployment.sealed()
    assert "sk-evo-deployment-secret" not in encryption.decrypt(sealed)
    settings.EVOLINK_API_KEY = "sk-evo-rotated"  # the operator rotates it while the task runs
    assert Account.unsealed(sealed).api_key == "sk-evo-rotated"

    own = Account("https://api.example.com", "https://files.example.com", "team", "sk-evo-teamkey")
    assert Account.unsealed(own.sealed()).api_key == "sk-evo-teamkey"
