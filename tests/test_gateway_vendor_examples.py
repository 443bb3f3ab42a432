"""The vendor's curl examples and the Show-as-code snippets, run over real HTTP against the
app with only the base URL and the key changed: a client of the vendor works unchanged."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.generations.models import Generation
from playground.studio import code
from playground.teams.upstream import Account

from .conftest import drive
from .gateway import issue
from .images import image_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

EXAMPLES = Path(__file__).with_name("vendor_examples")
VENDOR_HOSTS = ("https://api.evolink.ai", "https://files-api.evolink.ai")


@pytest.fixture
def plain(team, teammate):
    return issue(team, teammate)[1]


def run_example(name, live_server, plain, **values):
    """The example's output as JSON, its hosts replaced by the live app's and <token> by `plain`."""
    command = (EXAMPLES / name).read_text()
    for host in VENDOR_HOSTS:
        command = command.replace(host, live_server.url)
    command = command.replace("<token>", plain)
    for field, value in values.items():
        command = command.replace("{" + field + "}", str(value))
    done = subprocess.run(["bash", "-c", command.rstrip() + " --silent --show-error"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("example", ["create_ko.sh", "create_zh.sh"])
def test_the_vendors_create_example_works_against_the_app(live_server, plain, team, example):
    task = run_example(example, live_server, plain)
    assert task["object"] == "image.generation.task"
    assert task["status"] == "pending"
    generation = Generation.objects.get(public_id=task["id"], team=team)
    drive(generation)
    done = run_example("query_task.sh", live_server, plain, task_id=task["id"])
    assert done["status"] == "completed"
    assert done["results"][0].startswith(live_server.url)


def test_the_vendors_credits_and_upload_examples_work_against_the_app(live_server, plain, tmp_path):
    assert run_example("credits.sh", live_server, plain)["success"] is True
    picture = tmp_path / "product.png"
    picture.write_bytes(image_bytes((64, 64)))
    uploaded = run_example("upload_stream.sh", live_server, plain, file=picture)
    assert uploaded["success"] is True
    assert uploaded["data"]["file_url"].startswith(live_server.url)


def gateway_snippets(live_server):
    data = {"prompt": "a paper lantern festival", "size": "3:2", "n": "2"}
    account = Account(base_url="https://api.evolink.ai", files_base_url="", source="team")
    shown = code.snippets(data, [], False, account, live_server.url)
    return {snippet["name"]: snippet["text"] for snippet in shown["snippets"] + shown["gateway_snippets"]}


@pytest.mark.parametrize("name", ["curl-gateway", "python-gateway"])
def test_show_as_code_through_this_server_runs_as_shown(live_server, plain, name):
    snippet = gateway_snippets(live_server)[name]
    command = ["bash", "-c", snippet + " --silent --show-error"] if name == "curl-gateway" else [sys.executable, "-c", snippet]
    env = {**os.environ, code.TOKEN_VARIABLE: plain}
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    generation = Generation.objects.get(prompt="a paper lantern festival")
    assert (generation.size, generation.n, generation.token.name) == ("3:2", 2, "notebook")


@pytest.mark.parametrize("name", ["curl", "python"])
def test_show_as_code_for_the_service_runs_against_the_app_with_base_url_and_key_changed(live_server, plain, name):
    snippet = gateway_snippets(live_server)[name].replace("https://api.evolink.ai", live_server.url)
    command = ["bash", "-c", snippet + " --silent --show-error"] if name == "curl" else [sys.executable, "-c", snippet]
    env = {**os.environ, code.KEY_VARIABLE: plain}
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert Generation.objects.filter(prompt="a paper lantern festival").count() == 1
