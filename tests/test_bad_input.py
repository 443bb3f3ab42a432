"""Bad input to the generate and reference views: each is refused with a sentence that
names the problem, and nothing is stored, hosted, queued or charged."""

import functools
import html
import re
from pathlib import Path

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from playground.generations.models import Generation, Reference

from .bad_files import file, noise, saved
from .images import image_bytes, mask_bytes, mask_upload, upload
from .storage import stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox"), pytest.mark.engines]  # stored files

HTMX = {"HX-Request": "true"}

# -- what was written or sent -------------------------------------------------------


def files_under(folder):
    folder = Path(folder)
    if not folder.exists():
        return []
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def snapshot(sandbox):
    return {
        "references": Reference.objects.count(),
        "media": stored_files(),
        "sandbox tasks": len(files_under(sandbox.data_dir / "tasks")),
        "sandbox files": len(files_under(sandbox.data_dir / "files")),
        "credits": httpx.get(f"{sandbox.url}/v1/credits", headers=sandbox.headers).json(),
    }


def error_text(response, field):
    found = re.search(rf'<p class="error" id="{field}-error"[^>]*>(.*?)</p>', response.text, re.S)
    assert found, f"no #{field}-error paragraph in the response"
    return html.unescape(found.group(1))


def assert_refused(response, sandbox, before, field, *phrases, status=200):
    """Refused in words, in the right place; and nothing happened."""
    assert response.status_code == status
    message = error_text(response, field)
    for phrase in phrases:
        assert phrase in message
    assert Generation.objects.count() == 0
    assert snapshot(sandbox) == before


# -- requests -------------------------------------------------------------------------


def generate(client, htmx=True, **fields):
    data = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": "1", **fields}
    return client.post(reverse("studio:generate"), data, headers=HTMX if htmx else {})


def add_references(client, *files):
    return client.post(reverse("studio:references"), {"images": list(files)}, headers=HTMX)


def distinct_uploads(count):
    return [upload(f"ref-{number}.png", colour=(40 * number, 90, 90)) for number in range(count)]


def stored_references(client, count, team):
    """Ids of `count` distinct references, stored through the references view."""
    files = distinct_uploads(count)
    for batch in (files[:5], files[5:]):
        if batch:
            assert add_references(client, *batch).status_code == 200
    ids = [str(ref.public_id) for ref in Reference.objects.filter(team=team).order_by("id")]
    assert len(ids) == count
    return ids


# -- bad files (the corpus and its tests are in bad_files.py and test_hostile_uploads.py) ------


@functools.cache
def mask_over_4_mb():
    return saved(noise("RGBA", (1100, 1100)), "PNG", compress_level=1)


def test_one_bad_file_refuses_the_whole_batch(owner_client, sandbox):
    before = snapshot(sandbox)
    response = add_references(owner_client, upload("good.png"), file("still.gif", image_bytes(fmt="GIF")))
    assert_refused(response, sandbox, before, "references", "still.gif", "is a GIF file")


TOO_MANY = "At most 5 reference images per request: remove 1."


def test_six_uploads_at_once_are_refused_by_the_references_field(owner_client, sandbox):
    before = snapshot(sandbox)
    response = add_references(owner_client, *distinct_uploads(6))
    assert_refused(response, sandbox, before, "references", TOO_MANY)


def test_six_uploads_at_once_are_refused_by_generate(owner_client, sandbox):
    before = snapshot(sandbox)
    response = generate(owner_client, images=distinct_uploads(6))
    assert_refused(response, sandbox, before, "references", TOO_MANY)


# -- form fields ----------------------------------------------------------------------------


LISTED_SIZES = "Choose one of the listed sizes."
COUNTS = "Choose 1, 2 or 4 images."
HTTPS = "The callback URL must be an https:// address."
INTERNAL = "The callback URL must not point to an internal or loopback address."

BAD_FIELDS = {
    "prompt-empty": ("prompt", "", "Write a prompt describing the image."),
    "prompt-whitespace": ("prompt", " \t\n  ", "Write a prompt describing the image."),
    "prompt-2001-chars": ("prompt", "a" * 2001, "too long: at most 2000 characters (it has 2001)"),
    "size-4:3": ("size", "4:3", LISTED_SIZES),
    "size-2048x2048": ("size", "2048x2048", LISTED_SIZES),
    "n-0": ("n", "0", COUNTS),
    "n-3": ("n", "3", COUNTS),
    "n-8": ("n", "8", COUNTS),
    "n-abc": ("n", "abc", COUNTS),
    "callback-http": ("callback_url", "http://example.com/hook", HTTPS),
    "callback-127.0.0.1": ("callback_url", "https://127.0.0.1/x", INTERNAL),
    "callback-10.0.0.5": ("callback_url", "https://10.0.0.5/x", INTERNAL),
    "callback-172.20.1.1": ("callback_url", "https://172.20.1.1/x", INTERNAL),
    "callback-192.168.1.2": ("callback_url", "https://192.168.1.2/x", INTERNAL),
    "callback-localhost": ("callback_url", "https://localhost/x", INTERNAL),
    "callback-[::1]": ("callback_url", "https://[::1]/x", INTERNAL),
    "callback-ipv4-mapped-ipv6": ("callback_url", "https://[::ffff:10.0.0.1]/x", INTERNAL),
    "callback-2049-chars": (
        "callback_url",
        "https://example.com/" + "a" * 2029,
        "at most 2,048 characters long (it has 2,049)",
    ),
    "callback-not-a-url": ("callback_url", "not a url", HTTPS),
    "callback-bad-port": ("callback_url", "https://example.com:99999/x", HTTPS),
}


@pytest.mark.parametrize(("field", "value", "phrase"), list(BAD_FIELDS.values()), ids=list(BAD_FIELDS))
def test_a_bad_field_is_refused(owner_client, sandbox, field, value, phrase):
    before = snapshot(sandbox)
    response = generate(owner_client, **{field: value})
    assert_refused(response, sandbox, before, field, phrase)


def gif_upload():
    return {"images": [file("still.gif", image_bytes(fmt="GIF"))]}


WITHOUT_HTMX = {
    "prompt-empty": (lambda: {"prompt": ""}, "prompt", "Write a prompt describing the image."),
    "n-3": (lambda: {"n": "3"}, "n", COUNTS),
    "callback-localhost": (lambda: {"callback_url": "https://localhost/x"}, "callback_url", INTERNAL),
    "gif-upload": (gif_upload, "references", "“still.gif” is a GIF file"),
}


@pytest.mark.parametrize(("fields", "field", "phrase"), list(WITHOUT_HTMX.values()), ids=list(WITHOUT_HTMX))
def test_without_htmx_the_whole_page_comes_back_with_400(owner_client, sandbox, fields, field, phrase):
    before = snapshot(sandbox)
    response = generate(owner_client, htmx=False, **fields())
    assert_refused(response, sandbox, before, field, phrase, status=400)
    assert "<html" in response.text


# -- references by id --------------------------------------------------------------------------


@pytest.fixture
def rival_reference(outsider, sandbox):
    rival = Client()
    rival.force_login(outsider)
    assert add_references(rival, upload("rival.png", colour=(200, 10, 10))).status_code == 200
    return str(Reference.objects.get(team__slug="rival").public_id)


UNAVAILABLE = "A chosen reference image is no longer available: remove it and choose again."


def test_six_chosen_references_are_refused(owner_client, team, sandbox):
    ids = stored_references(owner_client, 6, team)
    before = snapshot(sandbox)
    response = generate(owner_client, references=ids)
    assert_refused(response, sandbox, before, "references", TOO_MANY)


def test_three_chosen_and_three_uploaded_references_are_refused(owner_client, team, sandbox):
    ids = stored_references(owner_client, 3, team)
    before = snapshot(sandbox)
    response = generate(owner_client, references=ids, images=distinct_uploads(6)[3:])
    assert_refused(response, sandbox, before, "references", TOO_MANY)


@pytest.mark.parametrize(
    "unknown",
    [
        pytest.param("0b5e5c4e-6f1d-4c57-9d0e-2a7a1f9b3c11", id="unknown-uuid"),
        pytest.param("not-an-id", id="malformed"),
        pytest.param("1", id="database-pk"),
    ],
)
def test_an_unknown_reference_id_is_refused(owner_client, team, sandbox, unknown):
    ids = stored_references(owner_client, 1, team)
    before = snapshot(sandbox)
    response = generate(owner_client, references=[*ids, unknown])
    assert_refused(response, sandbox, before, "references", UNAVAILABLE)


def test_another_teams_reference_is_refused(owner_client, sandbox, rival_reference):
    before = snapshot(sandbox)
    response = generate(owner_client, references=[rival_reference])
    assert_refused(response, sandbox, before, "references", UNAVAILABLE)
    assert "rival.png" not in response.text


# -- masks ---------------------------------------------------------------------------------------


def opaque_mask():
    return saved(Image.new("RGBA", (1024, 1024), (0, 0, 0, 255)), "PNG")


def rgb_mask():
    return saved(Image.new("RGB", (1024, 1024), "black"), "PNG")


WRONG_COUNT = "A mask edits exactly one reference image"

BAD_MASKS = {
    "jpeg": (lambda: file("mask.jpg", image_bytes(fmt="JPEG")), "“mask.jpg” is a JPEG file: use PNG"),
    "over-4-mb": (lambda: file("noisy.png", mask_over_4_mb()), "“noisy.png” is larger than 4 MB"),
    "wrong-pixel-size": (
        lambda: mask_upload(size=(800, 600), box=(10, 10, 100, 100)),
        "The mask is 800 × 600 pixels; it must be the size of the reference image, 1024 × 1024",
    ),
    "fully-opaque": (lambda: file("opaque.png", opaque_mask()), "no transparent pixels"),
    "no-alpha-channel": (lambda: file("flat.png", rgb_mask()), "no transparent pixels"),
    "not-an-image": (lambda: file("mask.png", b"this is not a picture"), "“mask.png” is not a PNG image"),
    "empty": (lambda: file("mask.png", b""), "empty"),
}


@pytest.mark.parametrize(("make", "phrase"), list(BAD_MASKS.values()), ids=list(BAD_MASKS))
def test_a_bad_mask_is_refused(owner_client, team, sandbox, make, phrase):
    ids = stored_references(owner_client, 1, team)
    before = snapshot(sandbox)
    response = generate(owner_client, references=ids, mask=make())
    assert_refused(response, sandbox, before, "mask", phrase)


def test_a_mask_with_two_references_is_refused(owner_client, team, sandbox):
    ids = stored_references(owner_client, 2, team)
    before = snapshot(sandbox)
    response = generate(owner_client, references=ids, mask=file("mask.png", mask_bytes()))
    assert_refused(response, sandbox, before, "mask", WRONG_COUNT, "there are 2")


def test_a_mask_without_a_reference_is_refused(owner_client, sandbox):
    before = snapshot(sandbox)
    response = generate(owner_client, mask=file("mask.png", mask_bytes()))
    assert_refused(response, sandbox, before, "mask", WRONG_COUNT, "there are 0")
