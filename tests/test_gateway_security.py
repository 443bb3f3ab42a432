"""Who may use the gateway: a live personal token, and only on its own team's work."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playground.generations.models import Generation
from playground.teams import tokens

from .finished import finished_generation, stored_reference
from .gateway import Script, issue

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/v1/images/generations"),
    ("get", "/v1/tasks/0b7d3c1e-2f7e-4a43-9e4b-0d3f5f0e6a11"),
    ("get", "/v1/credits"),
    ("post", "/api/v1/files/upload/stream"),
    ("post", "/api/v1/files/upload/base64"),
    ("post", "/api/v1/files/upload/url"),
    ("delete", "/api/v1/files/0b7d3c1e-2f7e-4a43-9e4b-0d3f5f0e6a11"),
]


def call(client, method, path, **headers):
    if method == "post":
        return client.post(path, "{}", content_type="application/json", headers=headers)
    return getattr(client, method)(path, headers=headers)


def assert_refused_as_the_vendor_does(reply, plain=None):
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"
    if plain:
        assert plain not in reply.content.decode()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_a_request_without_a_token(client, method, path):
    assert_refused_as_the_vendor_does(call(client, method, path))


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_signed_in_browser_without_a_token_is_refused(owner_client, method, path):
    """The session cookie is never read: no CSRF surface, and a page cannot spend through it."""
    reply = call(owner_client, method, path)
    assert_refused_as_the_vendor_does(reply)
    assert not Generation.objects.exists()


@pytest.mark.parametrize("header", ["Bearer pgt_nope", "Bearer sk-evo-123", "Basic dXNlcjpwYXNz", "pgt_x", ""])
def test_a_wrong_token_is_a_401(client, team, teammate, header):
    issue(team, teammate)
    assert_refused_as_the_vendor_does(client.get("/v1/credits", headers={"Authorization": header}))


def test_a_revoked_token_is_a_401_that_does_not_echo_it(client, team, teammate, owner):
    token, plain = issue(team, teammate)
    assert Script(client, plain).get("/v1/credits").status_code == 200
    tokens.revoke(token, owner)
    assert_refused_as_the_vendor_does(Script(client, plain).create(), plain)
    assert not Generation.objects.exists()


def test_a_token_revoked_while_its_create_fetches_images_makes_nothing(team, teammate, owner):
    """A create checks its token again under the token's row lock, after the slow part (its
    links fetched): a revocation meanwhile wins."""
    from playground.gateway import creates
    from playground.gateway.errors import ApiError

    token, _plain = issue(team, teammate)
    tokens.revoke(tokens.PersonalToken.objects.get(pk=token.pk), owner)  # `token` is as the request read it
    cleaned = {"prompt": "a cat", "size": "1:1", "n": 1, "callback_url": ""}
    with pytest.raises(ApiError) as refused:
        creates.create(token, cleaned, [], None, key="", body_digest="", base_url="http://testserver")
    assert refused.value.status == 401
    assert not Generation.objects.exists()


def test_last_used_from_is_the_address_the_https_proxy_saw(client, team, teammate, settings):
    settings.BEHIND_HTTPS_PROXY = True
    token, plain = issue(team, teammate)
    Script(client, plain).get("/v1/credits", **{"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    token.refresh_from_db()
    assert token.last_used_ip == "203.0.113.9"
    tokens.PersonalToken.objects.filter(pk=token.pk).update(last_used_at=None)
    assert Script(client, plain).get("/v1/credits", **{"X-Forwarded-For": "unknown"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_ip is None  # what is no address is not kept as one


def test_an_expired_token_is_a_401(client, team, teammate):
    _token, plain = issue(team, teammate, expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused_as_the_vendor_does(Script(client, plain).get("/v1/credits"), plain)


def test_a_removed_members_token_is_a_401(client, team, teammate, owner):
    from playground.teams import memberships

    _token, plain = issue(team, teammate)
    memberships.remove(team.memberships.get(user=teammate), owner)
    assert_refused_as_the_vendor_does(Script(client, plain).get("/v1/credits"))


def test_a_token_never_reaches_the_logs(client, team, teammate, caplog):
    _token, plain = issue(team, teammate)
    Script(client, plain).get("/v1/tasks/not-an-id")
    Script(client, plain + "x").get("/v1/credits")
    assert plain not in caplog.text


def test_a_use_is_recorded_with_its_time_and_address(client, team, teammate):
    token, plain = issue(team, teammate)
    Script(client, plain).get("/v1/credits")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_ip == "127.0.0.1"


def test_another_teams_generation_is_a_404_to_the_task_endpoint(client, team, teammate, other_team, outsider):
    theirs = finished_generation(other_team, outsider)
    _token, plain = issue(team, teammate)
    assert Script(client, plain).get(f"/v1/tasks/{theirs.public_id}").status_code == 404


def test_another_teams_file_cannot_be_deleted(client, team, teammate, other_team, outsider):
    theirs = stored_reference(other_team, outsider, "theirs.png")
    _token, plain = issue(team, teammate)
    reply = Script(client, plain).delete(f"/api/v1/files/{theirs.public_id}")
    assert reply.status_code == 404
    assert reply.json()["success"] is False
    assert type(theirs).objects.filter(pk=theirs.pk).exists()


def test_another_teams_file_link_cannot_be_used_in_a_create(client, team, teammate, other_team, outsider):
    from .images import image_bytes

    _theirs, their_plain = issue(other_team, outsider)
    uploaded = Script(client, their_plain).upload(image_bytes((64, 64)))
    file_url = uploaded.json()["data"]["file_url"]
    _token, plain = issue(team, teammate)
    reply = Script(client, plain).create(image_urls=[file_url])
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found_error"
    assert not Generation.objects.exists()


def test_another_teams_result_link_cannot_be_used_in_a_create(client, team, teammate, other_team, outsider):
    theirs = finished_generation(other_team, outsider)
    _theirs, their_plain = issue(other_team, outsider)
    link = Script(client, their_plain).get(f"/v1/tasks/{theirs.public_id}").json()["results"][0]
    _token, plain = issue(team, teammate)
    assert Script(client, plain).create(image_urls=[link]).status_code == 404


@pytest.mark.parametrize("path", ["/v1/videos/generations", "/v1/", "/api/v1/files/list/more", "/v1/results/short.png"])
def test_an_unknown_api_path_is_a_404_in_the_vendors_shape(client, path):
    reply = client.get(path)
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found_error"


def test_replies_are_not_kept_by_caches(client, team, teammate):
    reply = Script(client, issue(team, teammate)[1]).get("/v1/credits")
    assert reply["Cache-Control"] == "no-store"
    assert client.get("/v1/credits")["Cache-Control"] == "no-store"
