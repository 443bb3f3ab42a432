"""A generation a script made with a personal token is marked "via API · token name" wherever
the History shows it; one made on the pages is not."""

import io
import json
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from playground.generations.models import Status
from playground.teams import tokens

from .conftest import make_generation
from .finished import stored_image

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def client_of(teammate):
    client = Client()
    client.force_login(teammate)
    return client


@pytest.fixture
def scripted(team, teammate):
    token, _plain = tokens.issue(team, teammate, name="nightly renders")
    return make_generation(
        team, teammate, token=token, prompt="a scripted lighthouse", status=Status.COMPLETED
    )


@pytest.fixture
def by_hand(team, teammate):
    return make_generation(team, teammate, prompt="a hand-made kite", status=Status.COMPLETED)


def item_of(page, prompt, tag="li"):
    """The list item that shows `prompt`."""
    before, after = page.split(prompt, 1)
    return before.rsplit(f"<{tag}", 1)[1] + prompt + after.split(f"</{tag}>", 1)[0]


def test_the_history_page_marks_a_scripted_generation(client_of, scripted, by_hand):
    page = client_of.get(reverse("studio:generations")).text
    assert "via API · nightly renders" in item_of(page, "a scripted lighthouse")
    assert "via API" not in item_of(page, "a hand-made kite")


def test_the_history_panel_marks_a_scripted_generation(client_of, scripted, by_hand):
    panel = client_of.get(reverse("studio:history"), headers=HTMX).text
    assert "via API · nightly renders" in item_of(panel, "a scripted lighthouse")
    assert "via API" not in item_of(panel, "a hand-made kite")


def test_the_details_page_says_which_token_made_it(client_of, scripted, by_hand):
    assert (
        "via API · nightly renders"
        in client_of.get(reverse("studio:generation-detail", args=[scripted.public_id])).text
    )
    assert "via API" not in client_of.get(reverse("studio:generation-detail", args=[by_hand.public_id])).text


def test_the_mark_stays_after_the_token_is_revoked(client_of, scripted, teammate):
    tokens.revoke(scripted.token, teammate)
    assert "via API · nightly renders" in client_of.get(reverse("studio:generations")).text


def test_the_history_page_reads_the_token_names_with_the_rows(
    client_of, team, teammate, django_assert_max_num_queries
):
    for number in range(6):
        token, _plain = tokens.issue(team, teammate, name=f"script {number}")
        make_generation(team, teammate, token=token, status=Status.COMPLETED)
    with django_assert_max_num_queries(30) as counted:
        client_of.get(reverse("studio:generations"))
    few = len(counted.captured_queries)
    for number in range(6, 12):
        token, _plain = tokens.issue(team, teammate, name=f"script {number}")
        make_generation(team, teammate, token=token, status=Status.COMPLETED)
    with django_assert_max_num_queries(few):
        client_of.get(reverse("studio:generations"))


def test_the_zip_manifest_names_the_token_a_generation_was_made_with(client_of, scripted, by_hand):
    response = client_of.post(
        reverse("studio:selection-zip"), {"generation": [scripted.public_id, by_hand.public_id]}
    )
    archive = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    described = {
        entry["prompt"]: entry["via_token"]
        for entry in json.loads(archive.read("manifest.json"))["generations"]
    }
    assert described == {"a scripted lighthouse": "nightly renders", "a hand-made kite": None}


def test_the_result_stage_marks_a_scripted_generation(client_of, scripted, by_hand):
    stage = client_of.get(reverse("studio:generation", args=[scripted.public_id]), headers=HTMX).text
    assert "via API · nightly renders" in stage
    assert "via API" not in client_of.get(reverse("studio:generation", args=[by_hand.public_id]), headers=HTMX).text
    opened = client_of.get(reverse("studio:playground"), {"g": scripted.public_id}).text
    assert "via API · nightly renders" in item_of(opened, 'id="result"', tag="section")


def test_the_compare_page_marks_a_scripted_generation(client_of, scripted, by_hand):
    stored_image(scripted, 0)
    stored_image(by_hand, 0)
    page = client_of.get(
        reverse("studio:compare"), {"generation": [scripted.public_id, by_hand.public_id]}
    ).text
    assert "via API · nightly renders" in item_of(page, "a scripted lighthouse")
    assert "via API" not in item_of(page, "a hand-made kite")
