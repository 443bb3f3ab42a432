"""Show as code: the request goes where the team's generations go, and never shows the key.

(That the snippets run as they are: tests/test_modes.py.)
"""

import html
import os
import re
import shutil
import subprocess

import pytest
from django.urls import reverse

HTMX = {"HX-Request": "true"}
TEAM_KEY = "sk-evo-team-secret-0123456789abcdef"
DEPLOYMENT_KEY = "sk-evo-deployment-secret-fedcba9876543210"
SNIPPETS = ("curl", "python", "javascript")


def show_code(client, **data):
    fields = {"prompt": "a lighthouse at dawn", "size": "3:2", "n": 2, **data}
    response = client.post(reverse("studio:code"), fields, headers=HTMX)
    assert response.status_code == 200
    return response


def snippet(response, name):
    match = re.search(rf'<code id="code-{name}">(.*?)</code>', response.text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def shown_text(response):
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def test_with_the_team_key_the_request_goes_to_evolink_and_the_key_stays_out(owner_client, team, settings):
    team.set_api_key(TEAM_KEY)
    team.save()
    response = show_code(owner_client)

    for name in SNIPPETS:
        text = snippet(response, name)
        assert "https://api.evolink.ai/v1/images/generations" in text
        assert "EVOLINK_API_KEY" in text
    assert TEAM_KEY not in response.text and TEAM_KEY[-4:] not in response.text
    assert settings.SANDBOX_URL not in response.text
    shown = shown_text(response)
    assert "Sent to EvoLink with the team's own key" in shown
    assert "Sandbox" not in shown


def test_a_base_url_the_owner_set_is_the_address_shown(owner_client, team):
    team.set_api_key(TEAM_KEY)
    team.api_base_url = "https://evolink.example.com"
    team.save()
    response = show_code(owner_client)
    assert "https://evolink.example.com/v1/images/generations" in snippet(response, "curl")
    assert "api.evolink.ai" not in response.text


def test_with_the_deployment_key_the_request_goes_to_evolink(owner_client, team, settings):
    settings.EVOLINK_API_KEY = DEPLOYMENT_KEY
    team.may_use_deployment_key = True
    team.save()
    response = show_code(owner_client)
    assert "https://api.evolink.ai/v1/images/generations" in snippet(response, "python")
    assert DEPLOYMENT_KEY not in response.text
    assert "with the deployment's key" in shown_text(response)


def test_on_the_sandbox_the_sandbox_address_is_shown_and_labelled_so(owner_client, settings):
    response = show_code(owner_client)
    for name in SNIPPETS:
        assert f"{settings.SANDBOX_URL}/v1/images/generations" in snippet(response, name)
    shown = shown_text(response)
    assert "Sandbox" in shown
    assert "uses the playground's built-in sandbox" in shown
    assert "api.evolink.ai" not in response.text


def test_with_no_key_and_no_sandbox_evolink_is_shown_and_the_missing_key_said(owner_client, settings):
    settings.USE_SANDBOX = False
    response = show_code(owner_client)
    assert "https://api.evolink.ai/v1/images/generations" in snippet(response, "curl")
    assert "This team has no key yet" in shown_text(response)


def test_every_snippet_carries_an_idempotency_key(owner_client):
    response = show_code(owner_client)
    assert re.search(r"-H 'Idempotency-Key: run_[0-9a-f-]{36}'", snippet(response, "curl"))
    assert '"Idempotency-Key": f"run_{uuid.uuid4()}"' in snippet(response, "python")
    assert '"Idempotency-Key": `run_${randomUUID()}`' in snippet(response, "javascript")


def test_the_snippets_are_highlighted_with_classes_not_styles(owner_client):
    response = show_code(owner_client, prompt='a <b>bold</b> "sign"')
    code = re.search(r'<code id="code-python">(.*?)</code>', response.text, re.S).group(1)
    assert '<span class="kn">import</span>' in code
    assert "style=" not in response.text
    assert "<b>" not in code  # the prompt stays text
    assert 'a <b>bold</b> \\"sign\\"' in snippet(response, "python")


@pytest.mark.usefixtures("sandbox")
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_curl_command_sent_twice_makes_one_task(owner_client, sandbox):
    command = snippet(show_code(owner_client), "curl") + " -i"
    runs = [
        subprocess.run(
            ["bash", "-c", command],
            env={**os.environ, "EVOLINK_API_KEY": sandbox.api_key},
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        for _ in range(2)
    ]
    task_ids = [re.search(r'"id":\s*"([^"]+)"', run).group(1) for run in runs]
    assert task_ids[0] == task_ids[1]
    assert "idempotent-replayed: true" in runs[1].lower()


def test_a_team_key_sent_to_the_sandbox_is_labelled_the_sandbox(owner_client, team, settings):
    settings.SANDBOX_URL = "http://127.0.0.1:8001"
    team.set_api_key(TEAM_KEY)
    team.api_base_url = settings.SANDBOX_URL
    team.save()
    response = show_code(owner_client)
    assert "http://127.0.0.1:8001/v1/images/generations" in snippet(response, "curl")
    shown = shown_text(response)
    assert "Sandbox" in shown and "are set to go to the playground's built-in sandbox" in shown
    assert TEAM_KEY not in response.text
