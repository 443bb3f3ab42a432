"""No body, header or path a script sends makes the gateway answer with a server error:
every refusal is a 4xx in the vendor's shape, and nothing is made."""

import json

import pytest

from playground.generations.models import Generation, Reference

from .gateway import Script, issue
from .images import image_bytes

pytestmark = pytest.mark.django_db

HOSTILE_URLS = ["http://[::1", "https://", "https://x:99999/a.png", "ftp://x/a.png", "https://\x00/a", "//x/a.png",
                "https://" + "a" * 3000, "https://exa mple.com/a.png"]
# Links of the app itself that are not a live file or result link of the team.
OWN_LINKS = ["http://testserver/v1/files/forged:sig.png", "http://testserver/v1/results/" + "a" * 30 + ".png",
             "http://testserver/api/v1/files/upload/stream", "http://testserver/"]
HOSTILE_VALUES = [None, True, 0, -1, 10**40, 1.5, "", "\x00", "x" * 100_000, [], {}, ["a"], {"a": 1}]


@pytest.fixture
def script(client, team, teammate):
    return Script(client, issue(team, teammate)[1])


def assert_refused(reply):
    assert 400 <= reply.status_code < 500, reply.content[:300]
    assert "error" in reply.json()


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("field", ["image_urls", "mask_url", "callback_url"])
def test_hostile_links_are_refused(script, url, field):
    value = [url] if field == "image_urls" else url
    extra = {"image_urls": ["https://127.0.0.1/a.png"]} if field == "mask_url" else {}
    assert_refused(script.create(**{**extra, field: value}))
    assert not Generation.objects.exists()


@pytest.mark.parametrize("url", OWN_LINKS)
@pytest.mark.parametrize("field", ["image_urls", "mask_url"])
def test_links_of_the_app_that_name_no_file_are_refused(script, url, field):
    value = [url] if field == "image_urls" else url
    extra = {"image_urls": [uploaded_link(script)]} if field == "mask_url" else {}
    assert_refused(script.create(**{**extra, field: value}))
    assert not Generation.objects.exists()


def uploaded_link(script):
    return script.upload(image_bytes((64, 64))).json()["data"]["file_url"]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("field", ["model", "prompt", "size", "n", "image_urls", "mask_url", "callback_url"])
def test_hostile_values_are_refused(script, field, value):
    body = {"model": "gpt-4o-image", "prompt": "a cat", field: value}
    reply = script.post("/v1/images/generations", body)
    if reply.status_code == 200:  # a value the vendor takes too (an empty callback_url, say)
        return
    assert_refused(reply)


# JSON may spell a lone surrogate (\ud800), which no UTF-8 text (nor database) can hold.
SURROGATES = ['{"model": "gpt-4o-image", "prompt": "a cat \\ud800"}', '{"base64_data": "\\udfff", "file_url": "\\udfff"}']


@pytest.mark.parametrize(
    "raw", ["", "null", "[]", '"text"', "[" * 100_000 + "]" * 100_000, "\xff\xfe", "{" * 50, *SURROGATES]
)
def test_hostile_bodies_are_refused(script, client, raw):
    for path in ("/v1/images/generations", "/api/v1/files/upload/base64", "/api/v1/files/upload/url"):
        reply = client.post(path, raw, content_type="application/json", headers=script.headers)
        assert_refused(reply)
    assert not Generation.objects.exists()


def test_a_broken_multipart_upload_is_refused(script, client):
    reply = client.post(
        "/api/v1/files/upload/stream",
        b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nabc",
        content_type="multipart/form-data; boundary=xyz",
        headers=script.headers,
    )
    assert_refused(reply)
    assert not Reference.objects.exists()


@pytest.mark.parametrize("key", ["", " ", "x" * 300, "a\x00b"])
def test_a_hostile_idempotency_key_is_refused(script, key):
    reply = script.post("/v1/images/generations", {"model": "gpt-4o-image", "prompt": "a cat"}, **{"Idempotency-Key": key})
    if key.strip() == "" and reply.status_code == 200:
        return  # no key at all
    assert_refused(reply)


@pytest.mark.parametrize("task_id", ["x", "0" * 500, "%00", "..", "12345678-1234-1234-1234-1234567890ab"])
def test_hostile_task_ids_are_a_404(script, task_id):
    reply = script.get(f"/v1/tasks/{task_id}")
    assert reply.status_code == 404
    assert json.loads(reply.content)["error"]["type"] == "not_found_error"


def test_a_link_to_an_internal_host_is_refused_in_the_words_of_a_host_that_does_not_resolve(script, settings):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = False
    inside = script.create(image_urls=["https://localhost/photo.png"])
    nowhere = script.create(image_urls=["https://no-such-host.invalid/photo.png"])
    assert inside.status_code == nowhere.status_code == 400
    assert inside.json()["error"] == nowhere.json()["error"]
    assert not Generation.objects.exists()
