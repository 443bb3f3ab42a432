"""Upstream faults, a batch at a time: whatever the service does, nothing is lost or paid twice.

Each test sends a batch (one to four images, some with a reference image so the file
hosting is used too) through the studio's generate view, switches a sandbox fault on,
lets a tracker settle the batch, then checks the promises of `tests.accounting` and what
a person would notice. Queue jobs run inline (django-q2's sync mode), so a generation is
submitted within its POST; the tracker does the rest.
"""

import hashlib
import json
import secrets
import time
from collections import defaultdict
from itertools import pairwise

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from playground.evolink.client import EvoLinkClient, FileQuota
from playground.generations.models import RUNNING, UPSTREAM_ACTIVE, Generation, Status
from playground.generations.tracker import Tracker

from .accounting import assert_every_generation_accounted_for, forget_served_calls, served_calls
from .images import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

HTMX = {"HTTP_HX_REQUEST": "true"}
CREATE = "/v1/images/generations"
UPLOAD = "/api/v1/files/upload/stream"
# Sizes of a batch, and which of them send a reference image (uploaded to the file hosting).
BATCH = [(1, False), (2, True), (4, False), (1, True)]
CLOCKS_APART = 0.05  # the app's and the sandbox's readings of the same clock, taken a little apart


@pytest.fixture(autouse=True)
def quick(settings, sandbox):
    settings.TRACKER_MIN_INTERVAL = 0.2
    settings.STALL_SECONDS = 2
    forget_served_calls(sandbox)


def send(owner_client, name, n=1, reference=False, seconds=1):
    """Ask for a generation as the studio's form does; the new row."""
    prompt = f"{name} [sandbox:seconds={seconds}]"
    form = {"prompt": prompt, "size": "1:1", "n": n}
    if reference:
        colour = tuple(hashlib.sha256(name.encode()).digest()[:3])  # a reference of its own, not a shared one
        form["images"] = upload(f"{name}.png", size=(256, 256), colour=colour)
    response = owner_client.post(reverse("studio:generate"), form, **HTMX)
    assert response.status_code == 200, response.content.decode()[:500]
    return Generation.objects.get(prompt=prompt)


def send_batch(owner_client, name, batch=BATCH, seconds=1):
    return [send(owner_client, f"{name} {index}", n, ref, seconds) for index, (n, ref) in enumerate(batch)]


def run_tracker(until, timeout=60):
    """A tracker passes over the due rows until `until()` holds."""
    tracker = Tracker()
    deadline = time.monotonic() + timeout
    try:
        while not until():
            assert time.monotonic() < deadline, list(Generation.objects.values_list("prompt", "status"))
            tracker.run_once()
            time.sleep(0.05)
    finally:
        tracker.pool.shutdown(wait=True)


def all_settled():
    return not Generation.objects.filter(status__in=RUNNING).exists()


def settle(timeout=60):
    run_tracker(all_settled, timeout)


def refreshed(generations):
    return [Generation.objects.get(pk=generation.pk) for generation in generations]


def calls_to(sandbox, path):
    return [call for call in served_calls(sandbox) if call["path"] == path]


def polls_by_task(sandbox):
    polls = defaultdict(list)
    for call in served_calls(sandbox):
        if call["path"].startswith("/v1/tasks/"):
            polls[call["path"].removeprefix("/v1/tasks/")].append(call)
    return polls


def waits_after(calls, status):
    """For each call answered `status`, the seconds until the next of these calls started."""
    calls = sorted(calls, key=lambda call: call["started"])
    return [after["started"] - call["ended"] for call, after in pairwise(calls) if call["status"] == status]


def history_summary(owner_client):
    response = owner_client.get(reverse("studio:history"), **HTMX)
    page = response.content.decode()
    start = page.index('id="history-summary">') + len('id="history-summary">')
    return " ".join(page[start : page.index("</p>", start)].split()), page


def assert_all_completed(generations):
    for generation in refreshed(generations):
        assert generation.status == Status.COMPLETED, (generation.prompt, generation.error_message)
        assert generation.images.count() == generation.n
        assert generation.error_message == ""


# -- 1. a 429 storm ---------------------------------------------------------------------


def test_a_rate_limit_storm_is_waited_out_as_retry_after_says(owner_client, sandbox, sandbox_faults):
    # Creates first: the first generation's create and its client's 3 retries are refused,
    # so it waits in the queue, and the whole team's sending waits for Retry-After: the
    # others wait in the team's line (or, made after that time, go out).
    sandbox_faults(error_status=429, error_count=6, retry_after=1)
    generations = send_batch(owner_client, "storm")
    first = generations[0]
    assert (first.status, first.task_id) == (Status.QUEUED, "")
    assert "busy" in first.error_message  # what the card says while it waits
    first.team.refresh_from_db()
    held_until = first.team.send_after.timestamp()
    creates_while_held = [call for call in calls_to(sandbox, CREATE) if call["started"] < held_until - CLOCKS_APART]
    assert [call["status"] for call in creates_while_held] == [429] * 4  # the first's, none of the others'
    assert all(generation.status in (Status.WAITING, *UPSTREAM_ACTIVE) for generation in generations[1:])

    # Once the hold has passed, every create goes out (the refusals left meet them)...
    sent = (Status.WAITING, Status.QUEUED, Status.SUBMITTING)
    run_tracker(lambda: not Generation.objects.filter(status__in=sent).exists())
    # ...then polls: 8 refusals spread over the batch.
    sandbox_faults(error_count=8)
    settle()

    assert_all_completed(generations)
    assert_every_generation_accounted_for(generations, sandbox)
    refusals = [call for call in served_calls(sandbox) if call["status"] == 429]
    assert len(refusals) == 6 + 8
    # Each create sent again after a refusal (the same attempt, the same key) waited Retry-After.
    creates = calls_to(sandbox, CREATE)
    assert len(creates) == len(generations) + sum(call["status"] == 429 for call in creates)
    attempts = defaultdict(list)
    for call in creates:
        attempts[call["idempotency_key"]].append(call)
    waits = [wait for calls in attempts.values() for wait in waits_after(calls, 429)]
    assert waits and all(wait >= 1 - CLOCKS_APART for wait in waits), waits
    # And no task was asked about again before its Retry-After had passed.
    polls = polls_by_task(sandbox)
    refused_polls = [wait for calls in polls.values() for wait in waits_after(calls, 429)]
    assert refused_polls, "the storm never reached a poll"
    assert min(refused_polls) >= 1 - CLOCKS_APART
    summary, _page = history_summary(owner_client)
    assert summary == f"0 running · {len(generations)} completed"


# -- 2 and 4. bursts of 502, 503 and HTML error pages -----------------------------------


@pytest.mark.parametrize(
    "burst",
    [{"error_status": 502}, {"error_status": 503}, {"non_json": True}],
    ids=["502", "503", "html-502-page"],
)
def test_a_burst_of_gateway_errors_delays_but_loses_nothing(owner_client, sandbox, sandbox_faults, burst):
    counter = "non_json_count" if burst.pop("non_json", False) else "error_count"
    # Two refusals: the client's own retries see the first create (or upload) through.
    sandbox_faults(**burst, **{counter: 2})
    generations = send_batch(owner_client, f"burst {counter}")
    sandbox_faults(**{counter: 8})  # then the polls meet them
    settle()

    assert_all_completed(generations)
    assert_every_generation_accounted_for(generations, sandbox)
    refused = [call for call in served_calls(sandbox) if call["status"] >= 500]
    assert len(refused) == 10
    assert any(call["path"].startswith("/v1/tasks/") for call in refused)


def test_internal_errors_on_polls_do_not_abandon_a_running_task(owner_client, sandbox, sandbox_faults, settings):
    # A poll only reads: a 500 says nothing of the task, which goes on (and is billed) upstream.
    settings.TRACKER_MIN_INTERVAL = 0.1  # the backoff after four failures: 0.2 + 0.4 + 0.8 + 1.6 s
    # Two generations and eight 500s: at least one is refused four times running.
    generations = send_batch(owner_client, "internal errors", BATCH[:2])
    sandbox_faults(error_status=500, error_count=8)
    settle()

    assert_all_completed(generations)
    assert_every_generation_accounted_for(generations, sandbox)
    refused = [call for call in served_calls(sandbox) if call["status"] == 500]
    assert len(refused) == 8


# -- 3. replies that come too late ------------------------------------------------------


def test_replies_past_the_timeout_never_send_a_task_twice(owner_client, sandbox, sandbox_faults, settings):
    settings.EVOLINK_TIMEOUT = 2  # not less: on a busy machine a healthy reply can take a second
    sandbox_faults(slow_seconds=3)
    # The create's reply comes too late: the task may exist upstream, so it is not sent again.
    lost = send(owner_client, "late create")
    # The reference's upload times out first: nothing billed, so it is simply tried again later.
    retried = send(owner_client, "late upload", n=2, reference=True)
    sandbox_faults(slow_seconds=0)
    on_time = [send(owner_client, "on time 0", n=4), send(owner_client, "on time 1", n=1, reference=True)]

    sandbox_faults(slow_seconds=3)  # the polls time out for a while
    run_tracker(lambda: any(generation.poll_failures for generation in refreshed(on_time)), timeout=20)
    sandbox_faults(slow_seconds=0)
    settle()

    lost.refresh_from_db()
    assert (lost.status, lost.error_code, lost.task_id) == (Status.FAILED, "task_unconfirmed", "")
    assert lost.credits_charged == 0
    assert_all_completed([retried, *on_time])
    generations = [lost, retried, *on_time]
    assert_every_generation_accounted_for(generations, sandbox)
    assert sum(call["status"] == 200 for call in calls_to(sandbox, CREATE)) == len(generations)

    summary, page = history_summary(owner_client)
    assert summary == "0 running · 3 completed · 1 failed"
    assert "It was not sent again" in page


# -- 5. connections cut off mid-reply --------------------------------------------------


def test_a_create_reply_cut_off_is_not_sent_again(owner_client, sandbox, sandbox_faults, monkeypatch):
    # Room in the hosting quota, known without asking: the reply cut off below is the upload's.
    monkeypatch.setattr(EvoLinkClient, "file_quota", lambda client: FileQuota(used=0, max=100, remaining=100))
    sandbox_faults(drop_count=1)
    lost = send(owner_client, "cut create")  # the task was made upstream, its id never arrived
    sandbox_faults(drop_count=1)
    retried = send(owner_client, "cut upload", n=2, reference=True)  # the upload's reply is cut off
    others = [send(owner_client, "whole 0", n=4), send(owner_client, "whole 1", n=1, reference=True)]
    assert retried.status == Status.QUEUED
    run_tracker(lambda: Generation.objects.get(pk=retried.pk).status != Status.QUEUED)

    sandbox_faults(drop_count=6)  # now polls are cut off
    settle()

    lost.refresh_from_db()
    assert (lost.status, lost.error_code, lost.task_id) == (Status.FAILED, "task_unconfirmed", "")
    assert "not sent again" in lost.error_message
    assert_all_completed([retried, *others])
    generations = [lost, retried, *others]
    assert_every_generation_accounted_for(generations, sandbox)
    dropped = [call for call in served_calls(sandbox) if call["dropped"]]
    assert len(dropped) == 8
    assert [call["path"] for call in dropped[:2]] == [CREATE, UPLOAD]
    assert all(call["path"].startswith("/v1/tasks/") for call in dropped[2:])
    # One orphan task upstream, made by the cut-off create; none made twice.
    assert sum(call["status"] == 200 for call in calls_to(sandbox, CREATE)) == len(generations)


def test_downloads_cut_off_are_retried_and_each_image_is_read_in_full_once(
    owner_client, sandbox, sandbox_faults
):
    generations = send_batch(owner_client, "cut download")
    sandbox_faults(download_drop_count=5)
    settle()

    assert_all_completed(generations)
    assert_every_generation_accounted_for(generations, sandbox)
    downloads = defaultdict(list)
    for call in served_calls(sandbox):
        if call["path"].startswith("/results/"):
            downloads[call["path"]].append(call["dropped"])
    assert sum(len(reads) for reads in downloads.values()) == sum(n for n, _ in BATCH) + 5
    # Cut off or not, each link ends with exactly one whole read, and nothing after it.
    assert all(reads[-1] is False and reads.count(False) == 1 for reads in downloads.values()), downloads


# -- 6. result links that expire before the download ------------------------------------


def test_links_expired_before_the_download_end_expired_and_say_so(owner_client, sandbox, sandbox_faults):
    sandbox_faults(link_ttl=0)
    generations = send_batch(owner_client, "expired links")
    settle()

    generations = refreshed(generations)
    for generation in generations:
        assert generation.status == Status.EXPIRED, generation.error_message
        assert not generation.images.exists()
    assert_every_generation_accounted_for(generations, sandbox)
    summary, page = history_summary(owner_client)
    assert summary == f"0 running · 0 completed · {len(generations)} failed"
    assert page.count("The result links expired before the images could be saved.") == len(generations)
    card = owner_client.get(reverse("studio:generation", args=[generations[0].public_id]))
    assert "The result links expired before the images could be saved." in card.content.decode()


# -- 7. callbacks: twice, late, out of order, forged -------------------------------------


def foreign_results(sandbox):
    """Real, signed result links of a task no generation of ours made: what a forger would claim."""
    body = {"model": "gpt-4o-image", "prompt": "someone else's picture [sandbox:seconds=0.2]", "n": 2}
    created = httpx.post(f"{sandbox.url}{CREATE}", json=body, headers=sandbox.headers).raise_for_status()
    task_url = f"{sandbox.url}/v1/tasks/{created.json()['id']}"
    while (task := httpx.get(task_url, headers=sandbox.headers).json())["status"] != "completed":
        time.sleep(0.1)
    forget_served_calls(sandbox)
    return task["id"], task["results"]


def deliver(token, status, task_id, urls=()):
    body = {"id": task_id, "status": status, "progress": 100 if status == "completed" else 50}
    if urls:
        body.update(results=list(urls), result_data=[{"image_url": url} for url in urls])
    return Client().post(reverse("evolink-callback", args=[token]), body, content_type="application/json")


def wait_until_done_upstream(sandbox, generations):
    """Until the sandbox's tasks are over, read from its own records (asking would be a poll)."""
    for generation in generations:
        task = json.loads((sandbox.data_dir / "tasks" / f"{generation.task_id}.json").read_text())
        time.sleep(max(0, task["created"] + task["seconds"] - time.time()) + 0.05)


def row(generation):
    return Generation.objects.filter(pk=generation.pk).values().get(), list(generation.images.values())


def test_callbacks_repeated_late_out_of_order_or_forged_are_only_hints(owner_client, sandbox):
    foreign_task, foreign_urls = foreign_results(sandbox)
    # Long enough to stay running upstream through the first steps on a busy machine.
    generations = send_batch(owner_client, "called back", seconds=10)

    def polls():
        return {task: len(calls) for task, calls in polls_by_task(sandbox).items()}

    # A "completed" delivery before the task is done, claiming someone else's images:
    # one poll each (the API says it is still running), and nothing else.
    for generation in generations:
        assert deliver(generation.callback_token, "completed", generation.task_id, foreign_urls).status_code == 204
    assert polls() == {generation.task_id: 1 for generation in generations}
    for generation in refreshed(generations):
        assert generation.status in UPSTREAM_ACTIVE and generation.result_urls == []
    # Unknown tokens, even in a well-formed shape: refused, and nobody is asked anything.
    before = [row(generation) for generation in generations]
    for token in ("not-a-token-of-ours-at-all", secrets.token_urlsafe(32)):
        assert deliver(token, "completed", generations[0].task_id, foreign_urls).status_code == 404
    assert [row(generation) for generation in generations] == before
    assert polls() == {generation.task_id: 1 for generation in generations}

    # "processing" arrives after "completed": one more poll each, as for any hint.
    for generation in generations:
        deliver(generation.callback_token, "processing", generation.task_id)
    assert polls() == {generation.task_id: 2 for generation in generations}
    assert all(generation.status in UPSTREAM_ACTIVE for generation in refreshed(generations))

    # Once the tasks are done upstream, each delivery comes twice: the first brings the
    # generation in (one poll, the downloads), the second finds it finished and does nothing.
    wait_until_done_upstream(sandbox, generations)
    for generation in generations:
        for _twice in range(2):
            assert deliver(generation.callback_token, "completed", generation.task_id, foreign_urls).status_code == 204
    assert polls() == {generation.task_id: 3 for generation in generations}
    settle()
    assert_all_completed(generations)

    # Late deliveries, after completion: no poll, no download, no change.
    before = [row(generation) for generation in generations]
    served = len(served_calls(sandbox))
    for generation in generations:
        deliver(generation.callback_token, "completed", generation.task_id, generation.result_urls)
        deliver(generation.callback_token, "failed", generation.task_id)
    assert [row(generation) for generation in generations] == before
    assert len(served_calls(sandbox)) == served

    assert_every_generation_accounted_for(generations, sandbox)
    assert not [call for call in served_calls(sandbox) if foreign_task in call["path"]]
    for generation in refreshed(generations):
        assert not set(foreign_urls) & set(generation.result_urls)
