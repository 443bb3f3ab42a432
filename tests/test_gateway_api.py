"""The EvoLink-compatible API served by the app: a script with a personal token creates,
polls and reads its credits as it would against the vendor, and its work is the team's."""

import time

import httpx
import pytest
from django.core import signing

from playground.evolink.client import EvoLinkClient
from playground.generations.models import Generation, Status

from .conftest import drive, make_user
from .finished import finished_generation
from .gateway import Script, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def script(client, team, teammate):
    return Script(client, issue(team, teammate)[1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
def test_a_created_task_finishes_with_links_to_the_teams_stored_copies(script, client, team, teammate):
    created = script.create(n=2, size="2:3")
    assert created.status_code == 200, created.content
    task = created.json()
    assert task["object"] == "image.generation.task"
    assert task["status"] == "pending" and task["model"] == "gpt-4o-image"
    assert task["usage"]["credits_reserved"] == 3.0
    generation = Generation.objects.get(public_id=task["id"])
    assert (generation.team, generation.created_by, generation.token.name) == (team, teammate, "notebook")

    drive(generation)
    done = script.get(f"/v1/tasks/{task['id']}").json()
    assert done["status"] == "completed" and done["progress"] == 100
    assert len(done["results"]) == 2
    assert all(link.startswith("http://testserver/v1/results/") for link in done["results"])
    image = client.get(done["results"][0])  # no token: the signature is the permission
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")


class Clock:
    """What django.core.signing reads the time from, moved by hand."""

    def __init__(self):
        self.now = time.time()

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    found = Clock()
    monkeypatch.setattr(signing, "time", found)
    return found


def test_result_links_are_signed_afresh_and_stop_working_after_24_hours(script, team, teammate, client, clock):
    generation = finished_generation(team, teammate)
    first = script.get(f"/v1/tasks/{generation.public_id}").json()["results"][0]
    clock.now += 2
    second = script.get(f"/v1/tasks/{generation.public_id}").json()["results"][0]
    assert first != second
    clock.now += 24 * 3600 - 60
    assert client.get(second).status_code == 200
    clock.now += 120
    assert client.get(second).status_code == 404


def test_a_tampered_result_link_opens_nothing(script, team, teammate, client):
    generation = finished_generation(team, teammate)
    link = script.get(f"/v1/tasks/{generation.public_id}").json()["results"][0]
    assert client.get(link.replace("/v1/results/", "/v1/results/x")).status_code == 404


def test_another_teams_task_is_a_404_in_the_vendors_shape(script, other_team, outsider):
    theirs = finished_generation(other_team, outsider)
    reply = script.get(f"/v1/tasks/{theirs.public_id}")
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found_error"
    assert "results" not in reply.json()


def test_an_unknown_task_id_is_a_404(script):
    assert script.get("/v1/tasks/task-unified-1757165031-uyujaw3d").status_code == 404


def test_a_teammates_task_is_visible_to_the_token(script, team, owner):
    theirs = finished_generation(team, owner)
    assert script.get(f"/v1/tasks/{theirs.public_id}").json()["status"] == "completed"


def test_a_failed_task_says_why(script, team, teammate):
    failed = finished_generation(
        team, teammate, n=0, status=Status.FAILED, error_code="content_policy_violation",
        error_message="The prompt was refused by the content policy.",
    )
    task = script.get(f"/v1/tasks/{failed.public_id}").json()
    assert task["status"] == "failed"
    assert task["error"] == {
        "code": "content_policy_violation",
        "message": "The prompt was refused by the content policy.",
        "type": "content_policy_violation",
    }


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"prompt": "a cat"}, "model", "model is required"),
        ({"model": "dall-e-3", "prompt": "a cat"}, "model", 'model must be "gpt-4o-image"'),
        ({"model": "gpt-4o-image"}, "prompt", "prompt is required"),
        ({"model": "gpt-4o-image", "prompt": "   "}, "prompt", "Write a prompt"),
        ({"model": "gpt-4o-image", "prompt": "x" * 2001}, "prompt", "at most 2000 characters"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "size": "512x512"}, "size", "Choose one of the listed sizes"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "n": 3}, "n", "Choose 1, 2 or 4"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "n": "2"}, "n", "n must be 1, 2 or 4"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "image_urls": "https://x.example/a.png"}, "image_urls", "list"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "image_urls": ["https://x.example/a.png"] * 6}, "image_urls",
         "at most 5"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "mask_url": "https://x.example/m.png"}, "mask_url",
         "exactly one image"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "callback_url": "http://hooks.example.com/x"}, "callback_url",
         "https://"),
        ({"model": "gpt-4o-image", "prompt": "a cat", "callback_url": "https://127.0.0.1/x"}, "callback_url",
         "internal"),
    ],
)
def test_a_bad_create_is_a_400_naming_the_field_and_makes_nothing(script, body, param, words):
    reply = script.post("/v1/images/generations", body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]
    assert not Generation.objects.exists()


def test_a_body_that_is_not_json_is_a_400(script, client):
    reply = client.post("/v1/images/generations", "{nope", content_type="application/json", headers=script.headers)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "invalid_json"


def test_another_method_is_a_405_in_the_vendors_shape(script):
    reply = script.get("/v1/images/generations")
    assert reply.status_code == 405
    assert reply["Allow"] == "POST"
    assert reply.json()["error"]["code"] == "method_not_allowed"


def test_credits_say_what_the_token_the_member_and_the_team_have_left(client, team, teammate):
    team.monthly_budget = 100
    team.save()
    _token, plain = issue(team, teammate, monthly_cap=10)
    script = Script(client, plain)
    finished_generation(team, teammate, credits_charged=4)  # made on the page: the member's, not the token's
    reply = script.get("/v1/credits")
    assert reply.status_code == 200
    body = reply.json()
    assert body["success"] is True
    assert body["data"]["token"] == {"remaining_credits": 10.0, "unlimited_credits": False, "used_credits": 0.0}
    assert body["data"]["user"] == {"remaining_credits": 96.0, "unlimited_credits": False, "used_credits": 4.0}
    assert body["data"]["team"] == {"remaining_credits": 96.0, "unlimited_credits": False, "used_credits": 4.0}


def test_credits_without_any_budget_are_unlimited_and_still_numbers(script):
    """As the vendor does: the flag says unlimited, the figure stays a number a client can read."""
    data = script.get("/v1/credits").json()["data"]
    unlimited = {"remaining_credits": 0.0, "unlimited_credits": True, "used_credits": 0.0}
    assert data == {"token": unlimited, "user": unlimited, "team": unlimited}


def test_the_apps_own_client_reads_the_gateways_credits_as_unlimited(client, team, teammate):
    """An EvoLink client pointed at the gateway (as an operator may point this app at one)."""
    _token, plain = issue(team, teammate)

    def through_the_app(request):
        reply = client.get(request.url.path, headers={"Authorization": request.headers["Authorization"]})
        return httpx.Response(reply.status_code, content=reply.content, headers={"Content-Type": reply["Content-Type"]})

    gateway = EvoLinkClient("http://testserver", plain, transport=httpx.MockTransport(through_the_app))
    balance = gateway.get_credits()
    assert (balance.unlimited, balance.remaining, balance.used) == (True, 0, 0)


def test_a_viewer_cannot_hold_a_working_token(client, team):
    viewer = make_user("vera", team, role="viewer")
    _token, plain = issue(team, viewer)
    assert Script(client, plain).get("/v1/credits").status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
def test_a_gateway_generation_is_in_the_history_its_zip_and_the_usage_like_a_page_one(team, teammate, owner_client):
    import io
    import zipfile

    from django.test import Client

    script = Script(Client(), issue(team, teammate, name="nightly renders")[1])
    task = script.create(prompt="a harbour crane at night").json()
    generation = drive(Generation.objects.get(public_id=task["id"]))

    history = owner_client.get("/generations/")
    assert history.status_code == 200
    assert "a harbour crane at night" in history.content.decode()
    assert "via API · nightly renders" in history.content.decode()
    archive = owner_client.get(f"/generations/{generation.public_id}/download.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as opened:
        manifest = next(name for name in opened.namelist() if name.endswith(".json") or name.endswith(".csv"))
        written = opened.read(manifest).decode()
        assert "a harbour crane at night" in written
        assert "nightly renders" in written  # the token it was made with
    usage = owner_client.get("/team/usage")
    assert usage.status_code == 200
    assert "nightly renders" in usage.content.decode()  # the usage's breakdown per token
