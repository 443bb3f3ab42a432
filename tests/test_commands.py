"""The command-line entries: `generate` for scripts, `up` for the one-command start."""

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from io import StringIO

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from PIL import Image

from playground.generations.models import Generation, Reference
from playground.sandbox.process import free_port, port_answers

from .images import image_bytes, mask_bytes
from .storage import read_path

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox"), pytest.mark.processes]


def test_generate_waits_and_prints_the_stored_images_as_json(team):
    out = StringIO()
    call_command("generate", "a neon sign saying OPEN", "--size", "2:3", "--n", "2", "--wait", stdout=out)
    result = json.loads(out.getvalue())
    assert result["status"] == "completed"
    assert result["error"] is None
    assert [(image["width"], image["height"]) for image in result["images"]] == [(1024, 1536)] * 2
    for image in result["images"]:
        assert Image.open(io.BytesIO(read_path(image["path"]))).size == (1024, 1536)


def test_generate_without_wait_queues_and_prints_the_id(team):
    out = StringIO()
    call_command("generate", "a kite", "--team", "acme", stdout=out)
    assert Generation.objects.get().public_id.hex == out.getvalue().strip().replace("-", "")


def test_generate_refuses_bad_input_with_the_pages_message_and_stores_nothing(team):
    with pytest.raises(CommandError, match="Choose 1, 2 or 4 images"):
        call_command("generate", "a kite", "--n", "3")
    assert not Generation.objects.exists()


def test_generate_reports_a_failed_task_in_words(team):
    out = StringIO()
    with pytest.raises(CommandError, match="content policy"):
        call_command("generate", "x [sandbox:fail=content_policy_violation]", "--wait", stdout=out)
    assert json.loads(out.getvalue())["error"]["code"] == "content_policy_violation"


def test_generate_edits_a_reference_image_through_a_mask(team, tmp_path):
    (tmp_path / "photo.jpg").write_bytes(image_bytes(fmt="JPEG"))
    (tmp_path / "mask.png").write_bytes(mask_bytes())
    out = StringIO()
    call_command(
        "generate", "a red door", "--image", str(tmp_path / "photo.jpg"), "--mask", str(tmp_path / "mask.png"),
        "--wait", stdout=out,
    )
    result = json.loads(out.getvalue())
    assert (result["status"], result["mode"]) == ("completed", "edit")
    assert [(image["width"], image["height"]) for image in result["images"]] == [(1024, 1024)]
    assert Generation.objects.get().strict_mask is True


def test_generate_takes_several_reference_images(team, tmp_path):
    paths = []
    for number in range(2):
        paths += ["--image", str(tmp_path / f"{number}.png")]
        (tmp_path / f"{number}.png").write_bytes(image_bytes(colour=(number * 200, 50, 50)))
    out = StringIO()
    call_command("generate", "a collage", *paths, stdout=out)
    assert Generation.objects.get().references.count() == 2


def test_generate_refuses_a_mask_for_two_references_and_stores_nothing(team, tmp_path):
    (tmp_path / "a.png").write_bytes(image_bytes(colour=(1, 2, 3)))
    (tmp_path / "b.png").write_bytes(image_bytes(colour=(4, 5, 6)))
    (tmp_path / "mask.png").write_bytes(mask_bytes())
    images = ["--image", str(tmp_path / "a.png"), "--image", str(tmp_path / "b.png")]
    with pytest.raises(CommandError, match="exactly one reference image; there are 2"):
        call_command("generate", "x", *images, "--mask", str(tmp_path / "mask.png"))
    assert not Generation.objects.exists() and not Reference.objects.exists()


def test_generate_names_a_missing_file(team, tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*nope.png"):
        call_command("generate", "x", "--image", str(tmp_path / "nope.png"))


def test_generate_names_an_unknown_team(team):
    with pytest.raises(CommandError, match="No team 'nope'"):
        call_command("generate", "a kite", "--team", "nope")


@pytest.mark.django_db(transaction=False)
def test_up_starts_everything_prints_the_login_and_ctrl_c_stops_it_all(tmp_path):
    web_port, sandbox_port = free_port(), free_port()
    env = {
        # The embedded default, whichever setup the test run itself is on.
        **{k: v for k, v in os.environ.items()
           if not k.startswith(("EVOLINK_", "SQLITE_", "DJANGO_", "DATABASE_URL", "REDIS_URL", "S3_", "COLLECTED_STATIC"))},
        "PLAYGROUND_DATA_DIR": str(tmp_path), "PORT": str(web_port), "SANDBOX_PORT": str(sandbox_port),
    }
    up = subprocess.Popen([sys.executable, "manage.py", "up"], cwd=settings.BASE_DIR, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        banner = read_until(up, "Press Ctrl-C to stop.")
        assert f"http://127.0.0.1:{web_port}/" in banner
        password = banner.split("Sign in as  demo / ")[1].split()[0]
        with httpx.Client(base_url=f"http://127.0.0.1:{web_port}") as browser:
            login = browser.get("/accounts/login/")
            token = browser.cookies["csrftoken"]
            signed_in = browser.post("/accounts/login/", data={
                "username": "demo", "password": password, "csrfmiddlewaretoken": token,
            }, headers={"Referer": str(login.url)}, follow_redirects=True)
            assert "0 running · 0 completed" in signed_in.text
            # It collected the static files: the page names them by their hashed names.
            stylesheet = re.search(r'href="(/static/playground/app\.[0-9a-f]{12}\.css)"', signed_in.text)
            assert stylesheet, "the stylesheet is not the collected one"
            assert browser.get(stylesheet[1]).headers["Cache-Control"].endswith("immutable")
        assert port_answers("127.0.0.1", sandbox_port)
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(30) == 0
    time.sleep(0.5)
    assert not port_answers("127.0.0.1", web_port)
    assert not port_answers("127.0.0.1", sandbox_port)


def read_until(process, marker, timeout=90):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} in: {''.join(seen)}")


@pytest.mark.django_db(transaction=False)
def test_up_says_which_port_is_taken(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path), "PORT": str(port)}
        result = subprocess.run([sys.executable, "manage.py", "up"], cwd=settings.BASE_DIR, env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"Port {port} is already in use" in result.stderr
