"""Nobody let in: CSRF on every state change, sign-in throttling, production settings,
a strict CSP that the pages keep to, and images only for the team that owns them."""

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from playground.batches.models import Batch, BatchRow
from playground.gateway import links
from playground.generations.models import GenerationReference, Reference, Status
from playground.library import prompts as library
from playground.teams import tokens
from playground.teams.models import Invitation, Membership

from .conftest import PASSWORD, make_generation, make_user
from .finished import stored_image, stored_reference

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
WRITE_METHODS = ["post", "put", "patch", "delete"]


@pytest.fixture
def things(team, owner, teammate):
    """One of everything a URL can name: a finished edit with references, a mask and images."""
    mask = stored_reference(team, owner, "mask.png", Reference.Kind.MASK)
    generation = make_generation(team, owner, status=Status.COMPLETED, mask=mask, callback_token="t" * 32)
    reference = stored_reference(team, owner, "shop-front.png")
    GenerationReference.objects.create(generation=generation, reference=reference, position=0)
    invitation, token = Invitation.issue(team, owner, Membership.Role.MEMBER, note="a newcomer")
    personal_token, _plain = tokens.issue(team, owner, name="a script")
    batch = Batch.objects.create(team=team, created_by=owner, name="a batch", template="a {{thing}}", size="1:1", n=1)
    BatchRow.objects.create(batch=batch, number=2, values={"thing": "cat"}, prompt="a cat", generation=generation)
    return {
        "batch": batch,
        "generation": generation,
        "image": stored_image(generation, 0, raw=True),
        "reference": reference,
        "mask": mask,
        "membership": teammate.memberships.get(),
        "invitation": invitation,
        "token": token,
        "personal_token": personal_token,
        "saved_prompt": library.save(owner.memberships.get(), title="a template", text="a {{thing}}", tags=[], shared=True),
    }


# Arguments of the URLs that name something; every other URL of the site takes none.
URL_ARGS = {
    "studio:favourite": lambda t: [t["generation"].public_id],
    "studio:gallery-tile": lambda t: [t["generation"].public_id],
    "studio:generation-detail": lambda t: [t["generation"].public_id],
    "studio:generation-delete": lambda t: [t["generation"].public_id],
    "studio:generation-cancel": lambda t: [t["generation"].public_id],
    "studio:generation-tags": lambda t: [t["generation"].public_id],
    "studio:generation-zip": lambda t: [t["generation"].public_id],
    "studio:generation": lambda t: [t["generation"].public_id],
    "studio:image": lambda t: [t["image"].public_id, "full"],
    "studio:image-vary": lambda t: [t["image"].public_id],
    "studio:image-viewer": lambda t: [t["image"].public_id],
    "studio:reference": lambda t: [t["reference"].public_id, "full"],
    "teams:revoke-invitation": lambda t: [t["invitation"].pk],
    "teams:change-role": lambda t: [t["membership"].pk],
    "teams:remove-member": lambda t: [t["membership"].pk],
    "teams:accept-invitation": lambda t: [t["token"]],
    "password_reset_confirm": lambda t: ["MQ", "set-password"],
    "evolink-callback": lambda t: [t["generation"].callback_token],
    "studio:revoke-token": lambda t: [t["personal_token"].prefix],
    "studio:token-callback-secret": lambda t: [t["personal_token"].prefix],
    "gateway:task": lambda t: [t["generation"].public_id],
    **{f"library:{name}": lambda t: [t["saved_prompt"].pk] for name in ("edit", "delete", "use")},
    "gateway:file": lambda t: [t["reference"].public_id],
    **{f"studio:{name}": lambda t: [t["batch"].public_id] for name in ("batch", "batch-progress", "batch-retry", "batch-cancel", "batch-zip")},
    "gateway:result-link": lambda t: [links.sign("result", t["image"], t["image"].generation.team_id), t["image"].extension],
    "gateway:file-link": lambda t: [links.sign("file", t["reference"], t["reference"].team_id), t["reference"].extension],
}
GATEWAY = "token auth only: the API never reads a browser's cookies, so another site cannot act for a signed-in person"

# The only views without Django's CSRF check, and why each is safe.
CSRF_EXEMPT = {
    "evolink-callback": "the service cannot hold a token; the secret token in the URL stands in, and a "
    "delivery only makes the app ask the API (tested in test_callbacks)",
    "studio:selection-zip": "only reads: another site cannot read the answer",
    "teams:accept-invitation": "answers GET only; a POST is refused with 405 before anything is read",
    **{
        f"gateway:{name}": GATEWAY
        for name in ("create", "task", "credits", "upload-stream", "upload-base64", "upload-url", "file", "unknown")
    },
}


def walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern.callback


def site_urls():
    """Every named URL of the site but the admin's (checked apart): name → view."""
    return {name: view for name, view in walk(get_resolver().url_patterns) if not name.startswith("admin:")}


def url(name, things):
    return reverse(name, args=URL_ARGS.get(name, lambda t: [])(things))


def state():
    """Every row of every table but the sessions': what a refused request must leave alone."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


@pytest.fixture
def csrf_client(owner):
    """A signed-in owner's browser, holding a CSRF cookie as one does after any page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(reverse("studio:playground")).status_code == 200
    assert client.cookies[settings.CSRF_COOKIE_NAME].value
    return client


def test_no_view_but_the_listed_ones_skips_the_csrf_check():
    exempt = {name for name, view in walk(get_resolver().url_patterns) if getattr(view, "csrf_exempt", False)}
    assert exempt == set(CSRF_EXEMPT)


@pytest.mark.parametrize("name", sorted(set(site_urls()) - set(CSRF_EXEMPT)))
def test_a_write_without_the_csrf_token_is_refused_and_changes_nothing(csrf_client, things, name):
    before = state()
    for method in WRITE_METHODS:
        response = getattr(csrf_client, method)(url(name, things), headers=HTMX)
        assert response.status_code == 403, (method, response.status_code)
    assert state() == before


def test_a_refused_write_gets_a_page_that_says_so_in_the_apps_own_look(csrf_client, team):
    response = csrf_client.post(reverse("studio:generate"), {"prompt": "a cat", "size": "1:1", "n": "1"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "This form was not sent" in page and "Nothing was changed" in page
    assert 'href="/static/playground/app.css"' in page
    assert inline_code(page) == [] and "Content-Security-Policy" in response.headers


def test_a_role_that_may_not_do_something_gets_a_page_that_says_so(client, team):
    client.force_login(make_user("vera", team, Membership.Role.VIEWER))
    response = client.get(reverse("studio:key"))
    assert response.status_code == 403
    assert "Your role in this team does not allow this" in response.content.decode()
    assert inline_code(response.content.decode()) == []


@pytest.mark.parametrize("name", ["admin:login", "admin:logout", "admin:teams_team_add", "admin:auth_user_add"])
def test_the_admin_refuses_writes_without_the_token_too(owner, things, name):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    before = state()
    response = client.post(reverse(name), {"name": "Intruders", "username": "intruder"})
    assert response.status_code == 403
    assert state() == before


@pytest.mark.parametrize("name", sorted(CSRF_EXEMPT))
def test_the_exempt_views_change_nothing_when_posted_to_from_elsewhere(csrf_client, things, name):
    before = state()
    data = {"generation": [things["generation"].public_id]}
    response = csrf_client.post(url(name, things), data)
    if name.startswith("gateway:"):  # a session without a token: refused, whatever it asked
        assert response.status_code in (401, 403, 404, 405)
    else:
        assert response.status_code in (200, 204, 405)
    if name == "evolink-callback":  # a hint to ask the API sooner: the only field it touches
        for row in before["generations.Generation"]:
            row["next_check_at"] = None
        for row in (after := state())["generations.Generation"]:
            row["next_check_at"] = None
        assert after == before
    else:
        assert state() == before


@pytest.mark.parametrize("name", sorted(site_urls()))
def test_a_get_changes_nothing(csrf_client, things, name):
    before = state()
    response = csrf_client.get(url(name, things))
    assert response.status_code < 500
    assert state() == before


# -- signing in ------------------------------------------------------------------------------


LOCKED = "Too many failed sign-ins. Wait 15 minutes, then try again."


def sign_in(username, password, address="198.51.100.7", path="/accounts/login/"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": password})
    return client, response


def fail_five_times(username, path="/accounts/login/"):
    for _attempt in range(5):
        _client, response = sign_in(username, "wrong password", path=path)
    return response


def test_five_failed_sign_ins_lock_that_username_from_that_address_with_a_clear_message(owner, teammate):
    for _attempt in range(4):
        _client, response = sign_in("olivia", "wrong password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    _client, response = sign_in("olivia", "wrong password")

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert 'name="username"' in page and "Traceback" not in page  # the sign-in page, not an error
    assert "Content-Security-Policy" in response.headers
    client, response = sign_in("olivia", PASSWORD)  # even the right password, for now
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_keeps_out_no_one_else_and_ends_after_15_minutes(owner, teammate):
    fail_five_times("olivia")

    _client, other_user = sign_in("tom", PASSWORD)
    _client, other_address = sign_in("olivia", PASSWORD, address="203.0.113.9")
    assert other_user.status_code == other_address.status_code == 302

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    client, response = sign_in("olivia", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_a_correct_sign_in_forgives_the_earlier_failures(owner):
    for _attempt in range(4):
        sign_in("olivia", "wrong password")
    assert sign_in("olivia", PASSWORD)[1].status_code == 302
    for _attempt in range(4):
        _client, response = sign_in("olivia", "wrong password")
    assert response.status_code == 200


def test_the_admin_sign_in_is_locked_out_the_same_way(owner):
    owner.is_staff = owner.is_superuser = True
    owner.save()

    response = fail_five_times("olivia", path="/admin/login/")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    client, response = sign_in("olivia", PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # still signed out


def test_failed_sign_ins_are_counted_against_the_address_the_proxy_saw(settings, owner):
    settings.BEHIND_HTTPS_PROXY = True
    for attempt in range(5):
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}, 198.51.100.7")
        response = client.post("/accounts/login/", {"username": "olivia", "password": "wrong"})
    assert response.status_code == 429  # a forged first entry does not spread the count
    fresh = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert fresh.post("/accounts/login/", {"username": "olivia", "password": PASSWORD}).status_code == 302


# -- production settings ---------------------------------------------------------------------


def deploy_check(tmp_path, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECRET", "BEHIND", "SECURE_", "DATABASE", "REDIS", "S3_", "DEBUG"))
    }
    environment.update(PLAYGROUND_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )


def production_env():
    return {
        "SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "BEHIND_HTTPS_PROXY": "1",
        "ALLOWED_HOSTS": "images.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://images.example.com",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


def test_a_production_deployment_passes_djangos_deploy_checks(tmp_path):
    result = deploy_check(tmp_path, **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_the_https_proxy_the_deploy_checks_say_what_is_missing(tmp_path):
    result = deploy_check(tmp_path, **{**production_env(), "BEHIND_HTTPS_PROXY": "0"})
    assert result.returncode != 0
    for missing in ("SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        assert missing in result.stderr


PRODUCTION_REQUESTS = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("collectstatic", interactive=False, verbosity=0)  # as a release does first
plain = Client().get("/accounts/login/", HTTP_HOST="images.example.com")
secure = Client().get("/accounts/login/", HTTP_HOST="images.example.com", HTTP_X_FORWARDED_PROTO="https")
cookie = secure.cookies["csrftoken"]
print(json.dumps([plain.status_code, plain["Location"], secure.status_code,
                  secure["Strict-Transport-Security"], cookie["secure"], cookie["samesite"]]))
"""


def test_behind_the_proxy_plain_http_is_redirected_and_https_is_strict(tmp_path):
    environment = {**os.environ, **production_env(), "PLAYGROUND_DATA_DIR": str(tmp_path)}
    environment["DJANGO_SETTINGS_MODULE"] = "playground.settings"
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_REQUESTS],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert json.loads(result.stdout) == [
        301, "https://images.example.com/accounts/login/", 200, "max-age=31536000", True, "Lax"
    ], result.stderr


# -- a strict CSP, and pages that keep to it -------------------------------------------------


class InlineCode(HTMLParser):
    """Everything in a page that a strict CSP would block: handlers, styles, inline scripts."""

    def __init__(self):
        super().__init__()
        self.found = []
        self.in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name == "style":
                self.found.append(f"<{tag} style=…>")
            elif name in ("href", "src", "action", "formaction", "hx-get", "hx-post") and re.match(
                r"\s*javascript:", value or "", re.IGNORECASE
            ):
                self.found.append(f"<{tag} {name}={value}>")
        data_only = attrs.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and "src" not in attrs and not data_only and "nonce" not in attrs:
            self.found.append("<script> inline, without a nonce")
        if tag == "style":
            self.found.append("<style> inline")


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def app_pages(things):
    generation = things["generation"].public_id
    second = make_generation(things["generation"].team, status=Status.COMPLETED)
    stored_image(second, 0)
    get = [
        reverse("studio:playground"),
        f"{reverse('studio:playground')}?g={generation}",
        f"{reverse('studio:playground')}?rerun={generation}",
        reverse("studio:generations"),
        f"{reverse('studio:generations')}?layout=list",
        reverse("studio:generation-detail", args=[generation]),
        f"{reverse('studio:compare')}?generation={generation}&generation={second.public_id}",
        reverse("studio:history"),
        reverse("studio:earlier-references"),
        reverse("studio:generation", args=[generation]),
        reverse("teams:members"),
        reverse("teams:create"),
        reverse("studio:usage"),
        reverse("studio:usage-balance"),
        reverse("teams:audit"),
        reverse("studio:key"),
        f"{reverse('studio:key')}?remove",
        reverse("studio:budgets"),
        reverse("password_change"),
        reverse("library:library"),
        reverse("library:picker"),
        reverse("library:save"),
        reverse("library:edit", args=[things["saved_prompt"].pk]),
        f"{reverse('studio:batch-new')}?template=A%20%7B%7Bthing%7D%7D",
        reverse("studio:batches"),
        reverse("studio:batch", args=[things["batch"].public_id]),
        reverse("studio:batch-progress", args=[things["batch"].public_id]),
        "/no-such-page",
    ]
    return get


def test_every_page_is_free_of_inline_code_and_carries_the_csp(owner_client, owner, things):
    for path in app_pages(things):
        for headers in ({}, HTMX):
            response = owner_client.get(path, headers=headers)
            assert response.status_code in (200, 286, 404), path
            assert "Content-Security-Policy" in response.headers, path
            assert inline_code(response.content.decode()) == [], path
    response = owner_client.post(reverse("studio:code"), {"prompt": "a cat", "size": "1:1", "n": "1"})
    assert inline_code(response.content.decode()) == []
    batch = {"template": "A {{thing}}", "source": "values", "values-thing": "cat\n=cmd", "size": "1:1", "n": "1"}
    for headers in ({}, HTMX):
        response = owner_client.post(reverse("studio:batch-preview"), batch, headers=headers)
        assert response.status_code == 200 and "A cat" in response.content.decode()
        assert inline_code(response.content.decode()) == []


def test_the_csp_allows_nothing_inline_and_nothing_from_elsewhere(owner_client):
    policy = owner_client.get(reverse("studio:playground")).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"].split()[0] == "'self'" and "'nonce-" in directives["script-src"]
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_signed_out_pages_are_free_of_inline_code(client, things):
    for path in [reverse("login"), reverse("password_reset"), reverse("admin:login"), "/no-such-page"]:
        response = client.get(path)
        assert "Content-Security-Policy" in response.headers, path
        assert inline_code(response.content.decode()) == [], path
    client.get(url("teams:accept-invitation", things))
    response = client.get(reverse("teams:accept-pending-invitation"))
    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []


def admin_pages(things):
    yield reverse("admin:index")
    for model in apps.get_models():
        info = (model._meta.app_label, model._meta.model_name)
        try:
            changelist = reverse("admin:{}_{}_changelist".format(*info))
        except Exception:  # not in the admin
            continue
        yield changelist
        row = model.objects.order_by("pk").first()
        if row is not None:
            yield reverse("admin:{}_{}_change".format(*info), args=[row.pk])


def test_the_admin_pages_are_free_of_inline_code_too(owner_client, owner, things):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    for path in admin_pages(things):
        response = owner_client.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response.headers, path
        assert inline_code(response.content.decode()) == [], path


# -- images, only for the team that owns them ------------------------------------------------


def file_urls(things):
    """Every address that hands out an image's bytes, as a member would copy it."""
    image, reference, mask = things["image"].public_id, things["reference"].public_id, things["mask"].public_id
    return [
        *(reverse("studio:image", args=[image, variant]) for variant in ("full", "thumb", "raw")),
        *(reverse("studio:reference", args=[reference, variant]) for variant in ("full", "thumb")),
        *(reverse("studio:reference", args=[mask, variant]) for variant in ("full", "thumb")),
        reverse("studio:generation-zip", args=[things["generation"].public_id]),
    ]


def test_a_member_gets_every_file(owner_client, things):
    for path in file_urls(things):
        response = owner_client.get(path)
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content), path


def test_a_member_of_another_team_gets_404_for_every_file(client, outsider, things):
    client.force_login(outsider)
    for path in file_urls(things):
        assert client.get(path).status_code == 404, path
    response = client.post(reverse("studio:selection-zip"), {"generation": [things["generation"].public_id]})
    assert response.status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in_and_gets_no_bytes(client, things):
    for path in file_urls(things):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("login")), path
        assert response.content == b""
    response = client.post(reverse("studio:selection-zip"), {"generation": [things["generation"].public_id]})
    assert response.status_code == 302 and response.content == b""


def test_a_signed_out_fragment_request_gets_403_not_a_sign_in_page(client, things):
    response = client.get(reverse("studio:history"), headers=HTMX)
    assert response.status_code == 403


def test_zip_entry_names_stay_inside_the_archive_whatever_the_prompt(owner_client, team, owner):
    for prompt in ["../../../etc/passwd", "..\\..\\windows\\system32", "/absolute/path", "..", "C:\\evil"]:
        stored_image(make_generation(team, owner, prompt=prompt, status=Status.COMPLETED), 0)
    ids = list(team.generations.values_list("public_id", flat=True))

    response = owner_client.post(reverse("studio:selection-zip"), {"generation": ids})

    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert len(names) == 1 + len(ids)  # the manifest and one image each
    for name in names:
        assert not name.startswith("/") and "\\" not in name and ":" not in name, name
        assert ".." not in name.split("/"), name
