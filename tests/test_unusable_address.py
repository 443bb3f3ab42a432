"""A base URL the HTTP client cannot use (a host spelled 0177.0.0.1, a broken IDNA label):
refused on the Key page with a sentence; one stored before that check makes Test key and
the balance say so, and a generation sent through it fails with the reason at once."""

import html
import re

import pytest
from django.urls import reverse

from playground.generations import lifecycle
from playground.generations.models import Status

from .conftest import make_generation

KEY = "sk-test-4f9c2b7e1d3a8c6f0b5e9d2a7c4f1e8b"
HTMX = {"HX-Request": "true"}
UNUSABLE = ["https://0177.0.0.1:8502", "https://xn--zz.com", "https://0177.0.0.1"]
REFUSAL = "This address cannot be used"
REASON = "is not one this server can use"


def stored_unusable_address(team, field="api_base_url"):
    """A team whose address was saved before the Key page checked it."""
    team.set_api_key(KEY)
    setattr(team, field, UNUSABLE[0])
    team.save()


@pytest.mark.django_db
@pytest.mark.parametrize("url", UNUSABLE)
@pytest.mark.parametrize("field", ["api_base_url", "files_base_url"])
def test_the_key_page_refuses_an_address_the_client_cannot_use(owner_client, team, field, url):
    response = owner_client.post(reverse("studio:key"), {"api_key": KEY, "api_base_url": "", "files_base_url": "",
                                                        field: url})
    assert response.status_code == 400
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.content.decode())
    assert error and REFUSAL in html.unescape(error.group(1))
    team.refresh_from_db()
    assert not team.has_api_key and team.api_base_url == "" and team.files_base_url == ""


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["api_base_url", "files_base_url"])
def test_testing_a_key_with_a_stored_unusable_address_answers_in_words(owner_client, team, field):
    stored_unusable_address(team, field)
    response = owner_client.post(reverse("studio:test-key"), headers=HTMX)
    assert response.status_code == 200
    assert REASON in html.unescape(response.content.decode())


@pytest.mark.django_db
def test_the_balance_with_a_stored_unusable_address_answers_in_words(owner_client, team):
    stored_unusable_address(team)
    for headers in ({}, HTMX):
        response = owner_client.get(reverse("studio:usage-balance"), headers=headers)
        assert response.status_code == 200
        assert REASON in html.unescape(response.content.decode())


@pytest.mark.django_db(transaction=True)
def test_a_generation_through_an_unusable_address_fails_with_the_reason_at_once(team, owner):
    stored_unusable_address(team)
    generation = make_generation(team, owner)
    assert lifecycle.submit(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.error_code == "address_unusable"
    assert REASON in generation.error_message
    assert generation.finished_at is not None
