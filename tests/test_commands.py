"""The command-line entries: `generate` for scripts, `up` for the one-command start."""

import json
import os
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

from playground.generations.models import Generation
from playground.sandbox.process import free_port, port_answers

pytestmark = pytest.mark.django_db(transaction=True)


def test_generate_waits_and_prints_the_stored_images_as_json(team):
    out = StringIO()
    call_command("generate", "a neon sign saying OPEN", "--size", "2:3", "--n", "2", "--wait", stdout=out)
    result = json.loads(out.getvalue())
    assert result["status"] == "completed"
    assert result["error"] is None
    assert [(image["width"], image["height"]) for image in result["images"]] == [(1024, 1536)] * 2
    for image in result["images"]:
        assert Image.open(image["path"]).size == (1024, 1536)


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


def test_generate_names_an_unknown_team(team):
    with pytest.raises(CommandError, match="No team 'nope'"):
        call_command("generate", "a kite", "--team", "nope")


@pytest.mark.django_db(transaction=False)
def test_up_starts_everything_prints_the_login_and_ctrl_c_stops_it_all(tmp_path):
    web_port, sandbox_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EVOLINK_", "SQLITE_", "DJANGO_"))},
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
