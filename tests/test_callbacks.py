"""Task callbacks, end to end: the sandbox calls the live app back over real HTTP."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.urls import reverse

from playground.generations import lifecycle
from playground.generations.models import UPSTREAM_ACTIVE, GeneratedImage, Generation, Status
from playground.sandbox.process import start_sandbox

from .conftest import make_generation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

USER_CALLBACK = "https://hooks.example.invalid/evolink?source=playground"


@pytest.fixture(scope="module")
def callback_sandbox(tmp_path_factory):
    env = {"SANDBOX_TASK_SECONDS": "1", "SANDBOX_ALLOW_PRIVATE_URLS": "1"}
    with start_sandbox(tmp_path_factory.mktemp("callback-sandbox"), env=env) as running:
        yield running


@pytest.fixture
def calling_back(upstream, settings, callback_sandbox, live_server):
    """The app talks to a sandbox that may call loopback, and gives it the live server's address."""
    settings.SANDBOX_URL = callback_sandbox.url
    settings.SANDBOX_API_KEY = callback_sandbox.api_key
    settings.CALLBACK_BASE_URL = live_server.url
    return callback_sandbox


@pytest.fixture
def trap():
    """A loopback server that records every request made to it."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def sent_task(sandbox, generation):
    return json.loads((sandbox.data_dir / "tasks" / f"{generation.task_id}.json").read_text())


def receiver_url(live_server, token):
    return live_server.url + reverse("evolink-callback", args=[token])


def wait_for(generation, status, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.status == status:
            return generation
        time.sleep(0.1)
    raise AssertionError(f"{generation.public_id} still {generation.status} after {timeout} s")


def submitted(team, user, prompt="a lighthouse at dusk"):
    generation = lifecycle.create(team, user, prompt=prompt, size="1:1", n=1)
    generation.refresh_from_db()
    assert generation.status in UPSTREAM_ACTIVE, generation.error_message
    return generation


def snapshot(generation):
    row = Generation.objects.filter(pk=generation.pk).values().get()
    images = list(GeneratedImage.objects.filter(generation=generation).order_by("index").values())
    return row, images


def completed_body(task_id, urls):
    return {
        "id": task_id,
        "object": "image.generation.task",
        "status": "completed",
        "progress": 100,
        "results": urls,
        "result_data": [{"image_url": url} for url in urls],
        "task_info": {"can_cancel": False},
    }


@pytest.fixture
def delivered(calling_back, team, owner):
    """A generation brought to completed by the sandbox's callback alone."""
    generation = submitted(team, owner)
    return wait_for(generation, Status.COMPLETED)


def test_the_callback_alone_completes_the_generation(calling_back, live_server, team, owner):
    generation = submitted(team, owner)
    expected = receiver_url(live_server, generation.callback_token)
    assert lifecycle.callback_for(generation) == expected
    assert sent_task(calling_back, generation)["callback_url"] == expected

    wait_for(generation, Status.COMPLETED)
    assert generation.result_urls and all(url.startswith(calling_back.url) for url in generation.result_urls)
    image = generation.images.get()
    assert image.index == 0 and (image.width, image.height) == (1024, 1024)


@pytest.mark.parametrize(
    "token", ["not-a-token-of-ours-at-all", secrets.token_urlsafe(32)], ids=["unknown", "well-formed"]
)
def test_a_forged_delivery_is_refused_and_changes_nothing(live_server, team, token):
    generation = make_generation(team, status=Status.PROCESSING, task_id="task-unified-1-abcdefgh")
    before = snapshot(generation)
    body = completed_body(generation.task_id, ["http://127.0.0.1:9/evil.png"])
    response = httpx.post(receiver_url(live_server, token), json=body, timeout=10)
    assert response.status_code == 404
    assert snapshot(generation) == before


def test_a_get_on_the_receiver_is_refused(live_server, team):
    generation = make_generation(team, status=Status.PROCESSING, task_id="task-unified-1-abcdefgh")
    before = snapshot(generation)
    response = httpx.get(receiver_url(live_server, generation.callback_token), timeout=10)
    assert response.status_code == 405
    assert snapshot(generation) == before


def test_a_delivery_claiming_its_own_results_is_not_believed(calling_back, live_server, team, owner, trap):
    trap_url, fetched = trap
    evil = [f"{trap_url}/evil.png", "http://127.0.0.1:9/evil.png"]
    generation = submitted(team, owner, prompt="a lighthouse at dusk [sandbox:seconds=4]")
    url = receiver_url(live_server, generation.callback_token)

    response = httpx.post(url, json=completed_body(generation.task_id, evil), timeout=10)
    assert response.is_success
    generation.refresh_from_db()
    assert generation.status in UPSTREAM_ACTIVE
    assert generation.result_urls == []
    assert not generation.images.exists()

    wait_for(generation, Status.COMPLETED)
    assert not set(evil) & set(generation.result_urls)
    assert all(url.startswith(calling_back.url) for url in generation.result_urls)
    assert generation.images.count() == 1
    assert fetched == []


def test_a_late_or_repeated_delivery_changes_nothing(delivered, live_server, trap):
    before = snapshot(delivered)
    url = receiver_url(live_server, delivered.callback_token)
    bodies = [
        completed_body(delivered.task_id, delivered.result_urls),
        completed_body(delivered.task_id, [f"{trap[0]}/late.png"]),
        {"id": delivered.task_id, "status": "failed", "error": {"code": "service_error", "message": "late"}},
    ]
    for body in bodies:
        assert httpx.post(url, json=body, timeout=10).is_success
    assert snapshot(delivered) == before
    assert trap[1] == []


def test_the_token_never_appears_in_the_pages(delivered, owner_client):
    token = delivered.callback_token
    card = reverse("studio:generation", args=[delivered.public_id])
    htmx = {"HX-Request": "true"}
    pages = [
        owner_client.get(reverse("studio:playground") + f"?g={delivered.public_id}"),
        owner_client.get(reverse("studio:playground")),
        owner_client.get(card),
        owner_client.get(card, headers=htmx),
        owner_client.get(reverse("studio:history"), headers=htmx),
    ]
    for page in pages:
        assert page.status_code in (200, 286)
        assert str(delivered.public_id) in page.content.decode()
        assert token not in page.content.decode()


def test_the_requesters_own_callback_url_is_the_one_sent(settings, sandbox, owner_client):
    settings.CALLBACK_BASE_URL = "https://playground.example.com"
    response = owner_client.post(
        reverse("studio:generate"),
        {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1, "callback_url": USER_CALLBACK},
    )
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.callback_url == USER_CALLBACK
    assert lifecycle.callback_for(generation) == USER_CALLBACK
    assert sent_task(sandbox, generation)["callback_url"] == USER_CALLBACK


def test_without_a_public_address_no_callback_url_is_sent(settings, sandbox, team, owner):
    settings.CALLBACK_BASE_URL = ""
    generation = submitted(team, owner)
    assert lifecycle.callback_for(generation) is None
    assert sent_task(sandbox, generation)["callback_url"] is None
