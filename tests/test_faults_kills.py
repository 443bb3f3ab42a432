"""Processes killed mid-task with SIGKILL, then restarted: nothing is lost, stored twice,
sent twice or left behind in storage.

Each test kills a real child process (a tracker, a queue cluster, the web server) at a
named moment, proves from the sandbox's record of served calls that the call of that
moment was in flight, restarts the process and lets the batch settle.
"""

import io
import os
import re
import threading
import time

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django_q.conf import Conf
from PIL import Image

from playground.generations import credits, images, lifecycle, references
from playground.generations.models import RUNNING, Generation, Reference, Status
from playground.generations.sweep import sweep

from .accounting import assert_every_generation_accounted_for, forget_served_calls, served_calls
from .children import kill, manage, still_running, wait_for, web
from .conftest import PASSWORD, drive, make_generation, make_user
from .images import image_bytes, upload
from .storage import stored_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

HTMX = {"HTTP_HX_REQUEST": "true"}
POLL, UPLOAD, CREATE = "/v1/tasks/", "/api/v1/files/upload/stream", "/v1/images/generations"
QUOTA = "/api/v1/files/quota"


def settle(timeout=90):
    wait_for(lambda: not still_running(), timeout, still_running)


def cut_off_by_kill(sandbox, killed_at, path, count):
    """The `count` calls to `path…` that the sandbox started before the kill and answered after it.

    A call is recorded once answered, so this waits for the replies the dead process never read.
    """

    def in_flight():
        calls = [call for call in served_calls(sandbox) if call["path"].startswith(path)]
        found = [call for call in calls if call["started"] < killed_at < call["ended"]]
        return found if len(found) >= count else None

    return wait_for(in_flight, 15, lambda: f"fewer than {count} {path} calls were in flight at the kill")


def submitted(team, owner, sizes):
    """Generations sent upstream by the app itself, as a queue worker would have."""
    generations = []
    for index, n in enumerate(sizes):
        generation = make_generation(team, owner, prompt=f"kite {index}", n=n, credits_estimated=credits.estimate(n))
        assert lifecycle.submit(generation.pk)
        generation.refresh_from_db()
        generations.append(generation)
    return generations


def held(generations, **fields):
    """True once every generation is claimed by a live step (and matches `fields`)."""
    rows = Generation.objects.filter(pk__in=[generation.pk for generation in generations], **fields)
    return rows.exclude(lease_token="").count() == len(generations)


def test_a_tracker_killed_mid_poll_is_replaced_and_every_poll_is_answered_once(
    team, owner, sandbox, sandbox_faults, children
):
    forget_served_calls(sandbox)
    generations = submitted(team, owner, sizes=(1, 2, 4))
    sandbox_faults(slow_seconds=3)  # every poll takes 3 s
    first = manage(sandbox, "track")
    children.append(first)
    wait_for(lambda: held(generations, status__in=RUNNING), 30, still_running)
    time.sleep(1)  # the polls are on their way
    kill(first)
    killed_at = time.time()
    sandbox_faults(slow_seconds=0)
    children.append(manage(sandbox, "track"))

    settle()
    cut_off = cut_off_by_kill(sandbox, killed_at, POLL, len(generations))
    assert {call["path"] for call in cut_off} == {f"{POLL}{generation.task_id}" for generation in generations}
    assert_every_generation_accounted_for(generations, sandbox)
    for generation in generations:
        generation.refresh_from_db()
        assert generation.status == Status.COMPLETED, generation.error_message


def test_a_tracker_killed_mid_download_is_replaced_and_each_image_is_stored_once(
    team, owner, sandbox, sandbox_faults, children
):
    forget_served_calls(sandbox)
    generations = submitted(team, owner, sizes=(1, 2))
    sandbox_faults(download_seconds=3)  # each result download waits 3 s before its body comes
    first = manage(sandbox, "track")
    children.append(first)
    wait_for(lambda: held(generations, status=Status.INGESTING, attempts__gte=1), 30, still_running)
    time.sleep(1)  # the downloads are on their way
    kill(first)
    killed_at = time.time()
    sandbox_faults(download_seconds=0)
    children.append(manage(sandbox, "track"))

    settle()
    cut_off = cut_off_by_kill(sandbox, killed_at, "/results/", len(generations))
    assert {call["path"] for call in cut_off} == {f"/results/{generation.task_id}/0.png" for generation in generations}
    assert_every_generation_accounted_for(generations, sandbox)
    for generation in generations:
        generation.refresh_from_db()
        assert generation.status == Status.COMPLETED, generation.error_message
        assert generation.images.count() == generation.n


def test_a_queue_worker_killed_mid_upload_leaves_the_references_hosted_and_no_task_sent_twice(
    owner_client, team, sandbox, sandbox_faults, children, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", False)  # submit jobs go to the real broker, for the cluster
    forget_served_calls(sandbox)
    sandbox_faults(slow_seconds=4)  # file uploads (and every API reply) take 4 s
    cluster = manage(sandbox, "qcluster", Q_WORKERS=2)
    children.append(cluster)
    for index in range(2):
        images = [upload(f"photo-{index}-{side}.png", size=(256, 256), colour=(index * 90, side * 90, 40))
                  for side in range(2)]
        form = {"prompt": f"harbour {index}", "size": "1:1", "n": 1, "images": images}
        assert owner_client.post(reverse("studio:generate"), form, **HTMX).status_code == 200
    generations = list(Generation.objects.filter(team=team))
    wait_for(lambda: held(generations, status=Status.SUBMITTING), 60, still_running)
    # Each worker reads the hosting quota first (4 s too), then uploads.
    wait_for(lambda: len([call for call in served_calls(sandbox) if call["path"] == QUOTA]) >= 2, 30, still_running)
    time.sleep(2)  # each worker's first upload is on its way (after reading the file, from S3 maybe)
    kill(cluster)
    killed_at = time.time()
    sandbox_faults(slow_seconds=0)
    children.append(manage(sandbox, "qcluster", Q_WORKERS=2))
    children.append(manage(sandbox, "track"))

    settle()
    cut_off = cut_off_by_kill(sandbox, killed_at, UPLOAD, len(generations))
    references = list(Reference.objects.filter(team=team))
    uploads = [call for call in served_calls(sandbox) if call["path"] == UPLOAD]
    # Each reference is hosted once, and again only when its first upload's reply was lost.
    assert len(uploads) == len(references) + len(cut_off)
    assert not any(call["path"] == CREATE and call["started"] < killed_at for call in served_calls(sandbox))
    assert_every_generation_accounted_for(generations, sandbox)
    for generation in generations:
        generation.refresh_from_db()
        assert generation.status == Status.COMPLETED, generation.error_message
        sent = generation.ordered_references()
        assert len(generation.image_urls) == len(sent) == 2
        assert all(url.startswith(f"{sandbox.url}/files/") for url in generation.image_urls)
        # Once finished, nothing running needs them: their hosted files are deleted.
        assert all(reference.hosted_url == "" and reference.hosted_file_id == "" for reference in sent)


# -- the web server ----------------------------------------------------------------


def noise_png(seed, side=1400):
    """A large PNG that does not compress, so storing it takes a moment."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG", compress_level=1)
    return (f"noise-{seed}.png", out.getvalue(), "image/png")


def signed_in(url, username):
    """An httpx client signed in through the login form, as a browser would be."""
    http = httpx.Client(base_url=url, timeout=60)
    form = http.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    reply = http.post(
        "/accounts/login/", data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert reply.status_code == 302, reply.text
    return http


def post_generate(http, prompt, files):
    return http.post(
        reverse("studio:generate"),
        data={"prompt": prompt, "size": "1:1", "n": "1"},
        files=[("images", file) for file in files],
        headers={"X-CSRFToken": http.cookies["csrftoken"], "HX-Request": "true"},
    )


def test_the_web_server_killed_mid_request_leaves_no_half_made_generation_nor_orphan_files(
    team, sandbox, children
):
    user = make_user("wendy", team)
    # The child web server hashes passwords the production way.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save()
    forget_served_calls(sandbox)
    server, url = web(sandbox)
    children.append(server)
    http = signed_in(url, "wendy")
    files = [noise_png(index) for index in range(5)]
    answers = []
    request = threading.Thread(target=lambda: answers.append(_answer(post_generate, http, "lost lighthouse", files)))
    request.start()
    # Killed once the request has begun writing its reference files, before it can answer.
    deadline = time.monotonic() + 60
    while not stored_files(f"references/{team.pk}"):  # watched closely: the window is short
        assert time.monotonic() < deadline, "the request stored nothing"
        time.sleep(0.002)
    kill(server)
    request.join(30)
    assert isinstance(answers[0], httpx.TransportError)  # the request never got an answer
    for generation in Generation.objects.filter(team=team):  # none, or one made whole
        assert generation.reference_links.count() == len(files)

    server, url = web(sandbox)
    children.append(server)
    http = signed_in(url, "wendy")
    again = post_generate(http, "found lighthouse", [noise_png("again", side=300)])
    assert again.status_code == 200, again.text
    assert Generation.objects.filter(team=team, prompt="found lighthouse").exists()
    children.append(manage(sandbox, "track", SWEEP_GRACE_SECONDS=2, SWEEP_INTERVAL_SECONDS=1))

    settle()
    generations = list(Generation.objects.filter(team=team))
    for generation in generations:
        assert generation.status == Status.COMPLETED, generation.error_message
    wait_for(lambda: _no_orphans(team), 20, lambda: "orphan files were never swept")
    assert_every_generation_accounted_for(generations, sandbox)


def _answer(send, *args):
    try:
        return send(*args)
    except httpx.TransportError as error:
        return error


def _no_orphans(team):
    named = {name for row in Reference.objects.filter(team=team).values_list("file", "thumbnail") for name in row}
    return set(stored_files(f"references/{team.pk}")) <= named


def test_the_sweep_removes_only_files_that_no_row_names_once_past_the_grace(team, owner):
    generation = drive(make_generation(team, owner, credits_estimated=credits.estimate(1)))
    reference = references.store(team, owner, images.check_image(upload()))
    named = set(stored_files(f"generations/{team.pk}")) | set(stored_files(f"references/{team.pk}"))
    assert {reference.file.name, reference.thumbnail.name} < named
    left_behind = {
        default_storage.save(f"references/{team.pk}/lost.png", ContentFile(image_bytes())),
        default_storage.save(f"generations/{team.pk}/{generation.public_id}/1.png", ContentFile(image_bytes())),
    }

    assert sweep(grace_seconds=3600) == 0  # young: a request may be about to commit its row
    assert sweep(grace_seconds=0) == len(left_behind)
    assert set(stored_files(f"generations/{team.pk}")) | set(stored_files(f"references/{team.pk}")) == named
    assert_every_generation_accounted_for([generation])
