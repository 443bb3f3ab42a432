"""The playground page and its fragments: who sees what, and what the page says."""

import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from playground.generations.models import Generation, Status
from playground.teams.models import Membership

from .conftest import drive, make_generation, make_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def completed(team, owner):
    from .finished import finished_generation

    return finished_generation(team, owner)


def test_the_page_asks_a_signed_out_visitor_to_sign_in(client):
    response = client.get(reverse("studio:playground"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_polled_history_answers_403_not_a_login_page_when_signed_out(client):
    assert client.get(reverse("studio:history"), **HTMX).status_code == 403


def test_the_page_shows_the_form_and_an_empty_history(owner_client):
    page = owner_client.get(reverse("studio:playground")).content.decode()
    assert 'name="prompt"' in page and 'data-limit="2000"' in page
    assert 'maxlength="2000"' not in page  # a longer prompt stays as typed, and is refused with a message
    for size in ("1:1", "2:3", "3:2", "1024x1024", "1024x1536", "1536x1024"):
        assert f'value="{size}"' in page
    assert "0 running · 0 completed" in page
    assert '<script src="/static/django_htmx/htmx-2.min.js"' in page
    assert "cdn" not in page.lower()


def test_the_history_counts_running_and_completed(owner_client, team, owner, completed):
    make_generation(team, owner, status=Status.PROCESSING, progress=40)
    response = owner_client.get(reverse("studio:history"), **HTMX)
    assert "1 running · 1 completed" in response.content.decode()
    assert response.status_code == 200  # still polling while something runs


def test_the_history_stops_polling_when_nothing_runs(owner_client, completed):
    response = owner_client.get(reverse("studio:history"), **HTMX)
    assert response.status_code == 286
    assert "every 2s" not in response.content.decode()


def test_an_unchanged_history_costs_an_empty_204(owner_client, team, owner):
    make_generation(team, owner, status=Status.PROCESSING)
    first = owner_client.get(reverse("studio:history"), **HTMX)
    version = first.content.decode().split('"v": "')[1].split('"')[0]
    again = owner_client.get(reverse("studio:history"), {"v": version}, **HTMX)
    assert again.status_code == 204 and again.content == b""
    Generation.objects.update(progress=50)
    changed = owner_client.get(reverse("studio:history"), {"v": version}, **HTMX)
    assert changed.status_code == 200


def test_the_history_shows_only_the_latest_twenty(owner_client, team, owner):
    for number in range(25):
        make_generation(team, owner, prompt=f"prompt number {number:02d}", status=Status.COMPLETED)
    page = owner_client.get(reverse("studio:history"), **HTMX).content.decode()
    assert "prompt number 24" in page and "prompt number 05" in page
    assert "prompt number 04" not in page


def test_a_teammate_sees_the_teams_generations(client, teammate, completed):
    client.force_login(teammate)
    page = client.get(reverse("studio:history"), **HTMX).content.decode()
    assert completed.prompt in page


def test_another_team_sees_none_of_it(client, outsider, completed):
    client.force_login(outsider)
    history = client.get(reverse("studio:history"), **HTMX).content.decode()
    assert completed.prompt not in history
    assert client.get(reverse("studio:generation", args=[completed.public_id]), **HTMX).status_code == 404
    assert client.get(reverse("studio:playground"), {"g": completed.public_id}).status_code == 404
    image = completed.images.get()
    for variant in ("full", "thumb"):
        assert client.get(reverse("studio:image", args=[image.public_id, variant])).status_code == 404


def test_an_image_is_served_to_the_team_as_an_image(owner_client, completed):
    image = completed.images.get()
    response = owner_client.get(reverse("studio:image", args=[image.public_id, "full"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == default_storage.open(image.file.name).read()


def test_a_signed_out_visitor_cannot_fetch_an_image(client, completed):
    image = completed.images.get()
    response = client.get(reverse("studio:image", args=[image.public_id, "full"]))
    assert response.status_code == 302


def test_the_card_shows_the_images_with_size_and_alt_text(owner_client, completed):
    html = owner_client.get(reverse("studio:generation", args=[completed.public_id]), **HTMX).content.decode()
    assert "1024 × 1024" in html
    assert 'alt="Image 1 of 1: a red bicycle"' in html


def test_generating_from_htmx_returns_the_form_and_the_new_card_and_restarts_history(owner_client):
    response = owner_client.post(reverse("studio:generate"), {"prompt": "a boat", "size": "3:2", "n": 2}, **HTMX)
    assert response.status_code == 200
    assert "generation-queued" in json.loads(response["HX-Trigger"])
    html = response.content.decode()
    assert 'id="compose"' in html and 'hx-swap-oob="true"' in html
    assert "a boat" in html
    assert Generation.objects.get().n == 2


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"prompt": ""}, "prompt", "Write a prompt describing the image."),
        ({"prompt": "   "}, "prompt", "Write a prompt describing the image."),
        ({"prompt": "x" * 2001}, "prompt", "The prompt is too long: at most 2000 characters (it has 2001)."),
        ({"size": "4:3"}, "size", "Choose one of the listed sizes."),
        ({"size": "2048x2048"}, "size", "Choose one of the listed sizes."),
        ({"n": "3"}, "n", "Choose 1, 2 or 4 images."),
        ({"n": "8"}, "n", "Choose 1, 2 or 4 images."),
        ({"n": "two"}, "n", "Choose 1, 2 or 4 images."),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_written_or_sent(
    owner_client, sandbox, data, field, message
):
    import httpx

    before = httpx.get(f"{sandbox.url}/v1/credits", headers=sandbox.headers).json()
    form = {"prompt": "a cat", "size": "1:1", "n": "1", **data}
    response = owner_client.post(reverse("studio:generate"), form, **HTMX)
    html = response.content.decode()
    assert f'<p class="error" id="{field}-error">{message}' in html.replace("&#x27;", "'")
    assert not Generation.objects.exists()
    after = httpx.get(f"{sandbox.url}/v1/credits", headers=sandbox.headers).json()
    assert after == before  # no task was created upstream


def test_the_prompt_limit_is_configurable(owner_client, settings):
    settings.PROMPT_MAX_LENGTH = 10
    response = owner_client.post(reverse("studio:generate"), {"prompt": "x" * 11, "size": "1:1", "n": 1}, **HTMX)
    assert "at most 10 characters" in response.content.decode()
    assert not Generation.objects.exists()


def test_a_viewer_cannot_generate(client, team):
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    client.force_login(viewer)
    response = client.post(reverse("studio:generate"), {"prompt": "a cat", "size": "1:1", "n": 1})
    assert response.status_code == 403
    assert not Generation.objects.exists()


def test_the_error_of_a_failed_generation_is_shown_in_words(owner_client, team, owner):
    make_generation(team, owner, status=Status.FAILED, error_code="quota_exceeded",
                    error_message="The account's quota is used up for now. Try again later.")
    html = owner_client.get(reverse("studio:history"), **HTMX).content.decode()
    assert "quota is used up for now" in html


def test_a_malformed_id_is_a_404_not_a_server_error(owner_client):
    assert owner_client.get(reverse("studio:playground"), {"g": "nope"}).status_code == 404
    assert owner_client.get("/images/------------------------------------/full").status_code == 404
    assert owner_client.get("/generations/not-a-uuid", **HTMX).status_code == 404


def test_a_signed_out_htmx_post_gets_403_and_a_plain_post_is_sent_to_sign_in(client):
    data = {"prompt": "a cat", "size": "1:1", "n": 1}
    assert client.post(reverse("studio:generate"), data, **HTMX).status_code == 403
    response = client.post(reverse("studio:generate"), data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Generation.objects.exists()


def test_pages_carry_a_strict_content_security_policy(owner_client):
    policy = owner_client.get(reverse("studio:playground"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db(transaction=True)  # its generations are sent when their transaction commits
def test_the_api_key_appears_in_no_page_and_no_log_line(owner_client, sandbox, caplog, sandbox_faults):
    caplog.set_level("DEBUG")
    owner_client.post(reverse("studio:generate"), {"prompt": "a fox", "size": "1:1", "n": 1})
    drive(Generation.objects.get())
    sandbox_faults(error_status=503, error_count=2)
    owner_client.post(reverse("studio:generate"), {"prompt": "an owl", "size": "1:1", "n": 1})
    pages = [
        owner_client.get(reverse("studio:playground")).content,
        owner_client.get(reverse("studio:history"), **HTMX).content,
    ] + [owner_client.get(reverse("studio:generation", args=[g.public_id]), **HTMX).content
         for g in Generation.objects.all()]
    assert all(sandbox.api_key.encode() not in page for page in pages)
    assert sandbox.api_key not in caplog.text
    assert sandbox.api_key not in " ".join(Generation.objects.values_list("error_message", flat=True))
