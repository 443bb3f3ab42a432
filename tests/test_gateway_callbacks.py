"""A task's callback_url, called by the app when the generation ends: the vendor's body and
retries, through the guarded fetch, signed with the token's callback secret."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from playground.gateway.models import Callback
from playground.generations.models import Generation
from playground.teams import tokens

from .conftest import drive
from .gateway import Script, issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


class Receiver:
    """A script's web server on this machine: answers each POST with the next status given."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.calls = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                receiver.answer(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/evolink?source=script"

    def answer(self, handler):
        """The next status given, with an empty body."""
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request, settings):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = True  # the receiver is on this machine
    settings.GATEWAY_CALLBACK_RETRY_DELAYS = [0.01, 0.01, 0.01]
    found = Receiver(getattr(request, "param", [200]))
    yield found
    found.close()


@pytest.fixture
def token_and_script(client, team, teammate):
    token, plain = issue(team, teammate)
    return token, Script(client, plain)


def run_task(script, receiver, prompt="a lighthouse at dusk"):
    reply = script.create(prompt=prompt, callback_url=receiver.url)
    assert reply.status_code == 200, reply.content
    return drive(Generation.objects.get(public_id=reply.json()["id"]))


def test_the_callback_is_delivered_signed_with_the_task_as_a_query_answers_it(token_and_script, receiver):
    token, script = token_and_script
    generation = run_task(script, receiver)
    assert len(receiver.calls) == 1
    headers, body = receiver.calls[0]
    task = json.loads(body)
    queried = script.get(f"/v1/tasks/{generation.public_id}").json()
    assert task["id"] == queried["id"] and task["status"] == "completed"
    assert len(task["results"]) == 1
    assert headers["Content-Type"] == "application/json"
    timestamp, _comma, digest = headers["X-Playground-Signature"].partition(",")
    assert timestamp.startswith("t=") and digest.startswith("v1=")
    expected = hmac.new(
        tokens.callback_secret(token).encode(), f"{timestamp[2:]}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(digest[3:], expected)
    assert Callback.objects.get(generation=generation).delivered_at is not None


def test_the_service_is_never_given_the_scripts_callback_url(token_and_script, receiver, sandbox):
    _token, script = token_and_script
    generation = run_task(script, receiver)
    assert generation.callback_url == ""
    sent = json.loads((sandbox.data_dir / "tasks" / f"{generation.task_id}.json").read_text())
    assert receiver.url not in json.dumps(sent)


@pytest.mark.parametrize("receiver", [[500, 503, 200]], indirect=True)
def test_a_refused_callback_is_tried_again_until_it_is_taken(token_and_script, receiver):
    generation = run_task(token_and_script[1], receiver)
    assert len(receiver.calls) == 3
    first, last = json.loads(receiver.calls[0][1]), json.loads(receiver.calls[2][1])
    assert (first["id"], first["status"]) == (last["id"], last["status"]) == (str(generation.public_id), "completed")
    callback = Callback.objects.get(generation=generation)
    assert (callback.attempts, callback.last_status) == (3, 200)
    assert callback.delivered_at is not None


@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_after_three_retries_the_callback_is_given_up(token_and_script, receiver):
    generation = run_task(token_and_script[1], receiver)
    assert len(receiver.calls) == 4
    callback = Callback.objects.get(generation=generation)
    assert callback.delivered_at is None and callback.given_up_at is not None


def test_a_failed_task_is_called_back_with_its_error(token_and_script, receiver):
    run_task(token_and_script[1], receiver, prompt="a cat [sandbox:fail=content_policy_violation]")
    task = json.loads(receiver.calls[0][1])
    assert task["status"] == "failed"
    assert task["error"]["code"] == "content_policy_violation"


def test_a_delivered_callback_is_not_sent_again(token_and_script, receiver):
    from playground.gateway import callbacks

    generation = run_task(token_and_script[1], receiver)
    assert callbacks.deliver(generation.pk) is False
    assert len(receiver.calls) == 1


def test_callbacks_to_this_machine_are_refused_outside_development(token_and_script, receiver, settings):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = False
    reply = token_and_script[1].create(callback_url=receiver.url)
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "callback_url"


def test_a_callback_whose_job_was_lost_is_taken_up_by_the_trackers_sweep(token_and_script, receiver, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from playground.gateway import callbacks
    from playground.generations import signals

    with monkeypatch.context() as patch:
        patch.setattr(callbacks, "enqueue", lambda pk: None)  # the job is lost
        generation = run_task(token_and_script[1], receiver)
    assert receiver.calls == []
    Generation.objects.filter(pk=generation.pk).update(finished_at=timezone.now() - timedelta(minutes=11))
    signals.swept.send(sender=None)
    assert len(receiver.calls) == 1
    assert Callback.objects.get(generation=generation).delivered_at is not None


def test_the_sweep_leaves_a_callback_that_has_just_ended_to_its_own_job(token_and_script, receiver, monkeypatch):
    from playground.gateway import callbacks
    from playground.generations import signals

    with monkeypatch.context() as patch:
        patch.setattr(callbacks, "enqueue", lambda pk: None)
        run_task(token_and_script[1], receiver)
    signals.swept.send(sender=None)
    assert receiver.calls == []


def test_a_callback_whose_token_is_gone_is_given_up_never_sent_unsigned(token_and_script, receiver):
    """Its holder's account deleted, say: no secret is left to sign with, and an unsigned body
    anyone could forge is not sent."""
    token, script = token_and_script
    reply = script.create(callback_url=receiver.url)
    token.delete()
    drive(Generation.objects.get(public_id=reply.json()["id"]))
    assert receiver.calls == []
    assert Callback.objects.get().given_up_at is not None


class EndlessReceiver(Receiver):
    """Answers 200 at once, then a body it never finishes: a receiver's reply is not the app's to read."""

    def __init__(self):
        self.released = threading.Event()
        super().__init__()

    def answer(self, handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(10**9))
        handler.end_headers()
        handler.wfile.write(b"x" * 1024)
        handler.wfile.flush()
        self.released.wait(30)

    def close(self):
        self.released.set()
        super().close()


def test_a_receiver_that_answers_then_streams_forever_has_its_callback_delivered_at_once(
    token_and_script, settings
):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = True
    token, script = token_and_script
    receiver = EndlessReceiver()
    try:
        reply = script.create(callback_url=receiver.url)
        drive(Generation.objects.get(public_id=reply.json()["id"]))
        callback = Callback.objects.get()
        assert (callback.attempts, callback.last_status) == (1, 200)
        assert callback.delivered_at is not None
    finally:
        receiver.close()
