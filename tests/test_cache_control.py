"""Signed-in answers are never stored by a browser's cache or a proxy: every page and fragment
a signed-in person GETs says `Cache-Control: private, no-store`; the image and reference files
keep their own caching, private too."""

import itertools
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import get_max_age

from .test_no_server_errors import ROUTES, client_as, everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, owner, teammate, outsider):
    return everything(team, owner, teammate, outsider)

HTMX = {"HX-Request": "true"}


def directives(response):
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",") if part.strip()}


def signed_in_answers(world, role="owner"):
    """(path, response) for every GET of every URL, its parameters filled with what exists."""
    client = client_as(world, role)
    for (_name, template), _converters in ROUTES:
        holes = re.findall(r"{(\w+)}", template)
        for values in itertools.product(*(world["known"].get(hole, ["x"]) for hole in holes)):
            path = template.format(**dict(zip(holes, map(str, values), strict=True)))
            for headers in ({}, HTMX):
                yield path, client.get(path, headers=headers)


def is_stored_file(response):
    return response.get("Content-Type", "").startswith("image/")


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_every_signed_in_page_and_fragment_says_private_no_store(world, role):
    seen = set()
    for path, response in signed_in_answers(world, role):
        assert "private" in directives(response), (path, response.status_code, response.get("Cache-Control"))
        if not is_stored_file(response):
            assert "no-store" in directives(response), (path, response.status_code, response.get("Cache-Control"))
        if 200 <= response.status_code < 300:
            seen.add(path)
    owners_only = ("studio:key", "studio:budgets", "teams:audit")
    for name in ("studio:playground", "studio:history", "studio:generations", "studio:usage", *owners_only):
        if role == "owner" or name not in owners_only:
            assert reverse(name) in seen, name


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_a_redirect_to_the_url_with_its_slash_is_not_stored_either(world, role):
    path = reverse("studio:generations")
    assert path.endswith("/")
    response = client_as(world, role).get(path.rstrip("/"))
    assert response.status_code == 301 and response["Location"] == path
    assert {"private", "no-store"} <= directives(response), response.get("Cache-Control")


def test_image_and_reference_files_keep_their_own_private_caching(world):
    files = [(path, response) for path, response in signed_in_answers(world)
             if response.status_code == 200 and is_stored_file(response)]
    assert len(files) >= 4
    for path, response in files:
        assert "private" in directives(response) and "no-store" not in directives(response), path
        assert get_max_age(response), path


def test_signed_out_pages_are_left_to_their_own_headers(db):
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert "public" not in directives(response)  # the sign-in page's own never_cache
