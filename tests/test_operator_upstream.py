"""An upstream the operator chose (EVOLINK_BASE_URL, EVOLINK_FILES_BASE_URL) is reached whole,
even at an internal address over plain http: a second sandbox process on another loopback port,
reached through the deployment's settings and key, not as the built-in sandbox."""

import secrets

import pytest
from django.urls import reverse

from playground.generations import ingest
from playground.generations.models import Generation, Mode, Reference, Status
from playground.sandbox.process import start_sandbox
from playground.teams.upstream import account_for

from .conftest import drive, make_generation
from .images import mask_upload, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def operators_upstream(tmp_path_factory):
    env = {"SANDBOX_API_KEY": "sk-evo-" + secrets.token_hex(16), "SANDBOX_TASK_SECONDS": "0.5"}
    with start_sandbox(tmp_path_factory.mktemp("operators-upstream"), env=env) as process:
        yield process


@pytest.fixture
def deployment(operators_upstream, sandbox, settings, team):
    """The deployment's settings point at the second sandbox; the built-in one stays the first."""
    settings.EVOLINK_BASE_URL = operators_upstream.url
    settings.EVOLINK_FILES_BASE_URL = operators_upstream.url
    settings.EVOLINK_API_KEY = operators_upstream.api_key
    team.may_use_deployment_key = True
    team.save()
    account = account_for(team)
    assert account.source == "deployment" and not account.is_sandbox
    assert settings.SANDBOX_URL == sandbox.url != operators_upstream.url
    return operators_upstream


def generate(client, **data):
    fields = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1, **data}
    assert client.post(reverse("studio:generate"), fields).status_code == 302
    return drive(Generation.objects.order_by("-id").first())


def add_reference(client, team, name):
    client.post(reverse("studio:references"), {"images": [upload(name)]}, headers={"HX-Request": "true"})
    return Reference.objects.filter(team=team).order_by("-id").first()


def test_text_to_image_image_to_image_and_a_mask_edit_complete_through_the_operators_upstream(
    owner_client, team, deployment
):
    text = generate(owner_client)
    assert text.status == Status.COMPLETED, text.error_message
    assert text.result_urls[0].startswith(f"{deployment.url}/")

    reference = add_reference(owner_client, team, "photo.png")
    image = generate(owner_client, references=[str(reference.public_id)])
    assert image.status == Status.COMPLETED, image.error_message
    assert image.mode == Mode.IMAGE
    assert image.image_urls[0].startswith(f"{deployment.url}/files/")  # hosted there, not at the sandbox

    edit = generate(owner_client, references=[str(reference.public_id)], mask=mask_upload(), strict_mask="on")
    assert edit.status == Status.COMPLETED, edit.error_message
    assert edit.mode == Mode.EDIT
    assert edit.mask_url.startswith(f"{deployment.url}/files/")
    assert all(generation.images.count() == 1 for generation in (text, image, edit))


@pytest.mark.parametrize("where", ["the built-in sandbox", "another port"])
def test_a_link_on_another_loopback_port_is_still_refused(team, deployment, sandbox, where):
    """Trusted are only the origins (scheme, host and port) the task was sent to."""
    url = f"{sandbox.url}/results/x/0.png" if where == "the built-in sandbox" else "http://127.0.0.1:9/x.png"
    generation = make_generation(team, status=Status.INGESTING, task_id="task-1", result_urls=[url])
    assert ingest.ingest(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.error_message == "The service sent a result link this server will not open."


def test_a_teams_own_base_url_at_the_operators_origin_is_not_enough_for_another_origin(team, deployment, settings):
    team.set_api_key("sk-evo-teamsownkey")
    team.api_base_url = "https://api.example.com"
    team.save()
    account = account_for(team)
    assert ingest.operator_origins(account) == []
    team.api_base_url = ""
    team.files_base_url = ""
    team.save()
    # The team's key at the operator's own upstream: its links are fetched like the sandbox's.
    assert ingest.operator_origins(account_for(team)) == [deployment.url, deployment.url]


def test_without_the_sandbox_in_use_its_address_is_no_operators_origin(team, sandbox, settings):
    """A team whose base URL is SANDBOX_URL (saved while the sandbox ran) on a deployment
    that runs it no more: links there are guarded like any other."""
    team.set_api_key("sk-evo-teamsownkey")
    team.api_base_url = team.files_base_url = sandbox.url
    team.save()
    assert ingest.operator_origins(account_for(team)) == [sandbox.url, sandbox.url]  # the sandbox in use
    settings.USE_SANDBOX = False
    assert ingest.operator_origins(account_for(team)) == []
    generation = make_generation(
        team, status=Status.INGESTING, task_id="task-1", result_urls=[f"{sandbox.url}/results/x/0.png"]
    )
    assert ingest.ingest(generation.pk)
    generation.refresh_from_db()
    assert (generation.status, generation.error_message) == (
        Status.FAILED,
        "The service sent a result link this server will not open.",
    )
