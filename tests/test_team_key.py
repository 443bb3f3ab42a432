"""The team's EvoLink key: owners set, replace, test and remove it, and it never comes back out."""

import logging
import re
import traceback

import httpx
import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from playground.evolink.errors import EvoLinkError
from playground.generations.models import Generation, Reference, Status
from playground.teams import audit, encryption
from playground.teams.models import AuditEvent, Invitation, Membership, Team
from playground.teams.upstream import account_for, client_for

from .accounting import forget_served_calls, served_calls
from .conftest import PASSWORD, drive, make_user
from .images import upload

HTMX = {"HTTP_HX_REQUEST": "true"}
KEY = "sk-test-4f9c2b7e1d3a8c6f0b5e9d2a7c4f1e8b"


def save_key(client, api_key="", api_base_url="", files_base_url="", **extra):
    data = {"api_key": api_key, "api_base_url": api_base_url, "files_base_url": files_base_url}
    return client.post(reverse("studio:key"), data, **extra)


def key_input(page):
    return re.search(r'<input type="password" name="api_key"[^>]*>', page).group(0)


def actions(team):
    return list(AuditEvent.objects.filter(team=team).order_by("id").values_list("action", flat=True))


# -- who may -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
@pytest.mark.django_db
def test_only_owners_reach_the_key_and_its_test(client, team, role):
    client.force_login(make_user("someone", team, role))
    assert client.get(reverse("studio:key")).status_code == 403
    assert save_key(client, KEY).status_code == 403
    assert client.post(reverse("studio:key"), {"action": "remove"}).status_code == 403
    assert client.post(reverse("studio:test-key")).status_code == 403
    assert client.post(reverse("studio:test-key"), **HTMX).status_code == 403
    team.refresh_from_db()
    assert not team.has_api_key
    assert actions(team) == []


@pytest.mark.django_db
def test_the_key_page_acts_on_the_current_team_only(client, team, other_team, outsider):
    client.force_login(outsider)  # an owner of the other team
    save_key(client, KEY)
    team.refresh_from_db()
    other_team.refresh_from_db()
    assert not team.has_api_key
    assert other_team.api_key_last4 == KEY[-4:]


@pytest.mark.django_db
def test_a_signed_out_visitor_is_sent_to_sign_in_and_a_fragment_gets_403(client):
    response = client.get(reverse("studio:key"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("studio:test-key"), **HTMX).status_code == 403


# -- setting, replacing, removing --------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_sets_the_key_and_sees_only_its_last_four_characters(owner_client, team):
    response = save_key(owner_client, f"  {KEY}\n")
    assert response.status_code == 302

    team.refresh_from_db()
    assert team.api_key_last4 == KEY[-4:]
    assert encryption.decrypt(team.api_key_encrypted) == KEY  # surrounding whitespace stripped
    assert KEY not in team.api_key_encrypted
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert f"sk-…{KEY[-4:]}" in page
    assert KEY not in page and KEY[:-4] not in page
    assert page.count(f"The key ending in {KEY[-4:]} is saved.") == 1
    assert "The team's key, at https://api.evolink.ai." in page
    event = AuditEvent.objects.get(team=team)
    assert (event.action, event.details) == ("key.set", {"last4": KEY[-4:]})


@pytest.mark.django_db
def test_the_key_field_is_never_filled_in(owner_client, team):
    save_key(owner_client, KEY)
    page = owner_client.get(reverse("studio:key")).content.decode()
    field = key_input(page)
    assert "value=" not in field and 'autocomplete="off"' in field
    assert 'for="id_api_key"' in page


@pytest.mark.django_db
def test_after_an_error_the_typed_key_is_not_sent_back(owner_client, team):
    response = save_key(owner_client, KEY, api_base_url="http://example.com")
    page = response.content.decode()
    assert response.status_code == 400
    assert KEY not in page
    assert "value=" not in key_input(page)
    assert 'value="http://example.com"' in page  # the address is kept, to correct it
    team.refresh_from_db()
    assert not team.has_api_key


@pytest.mark.django_db
def test_addresses_saved_with_the_key_are_used_and_audited(owner_client, team):
    save_key(owner_client, KEY)
    save_key(
        owner_client, KEY, api_base_url="https://eu.evolink.example/", files_base_url="https://files.example"
    )

    team.refresh_from_db()
    assert (team.api_base_url, team.files_base_url) == ("https://eu.evolink.example", "https://files.example")
    assert actions(team) == ["key.set", "key.set", "upstream.changed"]
    event = AuditEvent.objects.get(action="upstream.changed")
    assert event.details == {
        "api_base_url": "https://eu.evolink.example",
        "files_base_url": "https://files.example",
    }
    assert account_for(team).base_url == "https://eu.evolink.example"


@pytest.mark.django_db
def test_a_blank_key_keeps_the_key_while_the_addresses_stay(owner_client, team):
    save_key(owner_client, KEY, api_base_url="https://eu.evolink.example")
    stored = Team.objects.get(pk=team.pk).api_key_encrypted
    response = save_key(owner_client, "", api_base_url="https://eu.evolink.example/")
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.api_key_encrypted == stored and team.api_base_url == "https://eu.evolink.example"
    assert actions(team) == ["key.set", "upstream.changed"]


@pytest.mark.parametrize(
    "addresses",
    [
        {"api_base_url": "https://attacker.example"},
        {"api_base_url": "https://eu.evolink.example", "files_base_url": "https://attacker.example"},
        {},  # back to the defaults
    ],
)
@pytest.mark.django_db
def test_a_stored_key_goes_to_a_new_address_only_if_it_is_typed_again(owner_client, team, addresses):
    save_key(owner_client, KEY, api_base_url="https://eu.evolink.example")
    before = Team.objects.values().get(pk=team.pk)

    response = save_key(owner_client, "", **addresses)
    page = response.content.decode()
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="api_key-error">([^<]*)</p>', page)
    assert error and "Enter the key again to use it with a new address." in error.group(1)
    assert Team.objects.values().get(pk=team.pk) == before
    assert actions(team) == ["key.set", "upstream.changed"]

    assert save_key(owner_client, KEY, **addresses).status_code == 302  # typed again: accepted


@pytest.mark.django_db
def test_without_a_stored_key_the_addresses_change_freely(owner_client, team):
    assert save_key(owner_client, "", api_base_url="https://eu.evolink.example").status_code == 302
    team.refresh_from_db()
    assert team.api_base_url == "https://eu.evolink.example" and not team.has_api_key


@pytest.mark.django_db
def test_a_new_key_replaces_the_old_one(owner_client, team):
    save_key(owner_client, KEY)
    save_key(owner_client, "sk-test-another-key-9876")
    team.refresh_from_db()
    assert encryption.decrypt(team.api_key_encrypted) == "sk-test-another-key-9876"
    assert list(AuditEvent.objects.filter(team=team).order_by("id").values_list("details", flat=True)) == [
        {"last4": KEY[-4:]},
        {"last4": "9876"},
    ]


@pytest.mark.django_db
def test_saving_nothing_new_changes_nothing(owner_client, team):
    response = save_key(owner_client, "")
    assert response.status_code == 302
    assert actions(team) == []
    assert "Nothing changed." in owner_client.get(reverse("studio:key")).content.decode()


@pytest.mark.django_db
def test_removing_the_key_asks_first_then_falls_back_to_the_sandbox(owner_client, team, sandbox):
    save_key(owner_client, KEY)
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert "Yes, remove the key" not in page
    confirm = owner_client.get(reverse("studio:key") + "?remove").content.decode()
    assert f"Remove the key ending in {KEY[-4:]}?" in confirm
    assert 'name="action" value="remove"' in confirm

    response = owner_client.post(reverse("studio:key"), {"action": "remove"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert not team.has_api_key and team.api_key_last4 == ""
    assert actions(team) == ["key.set", "key.removed"]
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert "The team&#x27;s key is removed." in page
    assert f"The built-in sandbox at {sandbox.url}" in page
    assert account_for(team).is_sandbox


@pytest.mark.django_db
def test_with_no_team_key_the_deployments_key_is_named(owner_client, team, settings):
    settings.EVOLINK_API_KEY = "sk-deployment-key-0000"
    team.may_use_deployment_key = True
    team.save()
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert "The deployment's key (set by the operator), at https://api.evolink.ai." in page
    assert "sk-deployment-key-0000" not in page


@pytest.mark.django_db
def test_a_team_not_allowed_the_deployments_key_is_told_it_uses_the_sandbox(owner_client, settings, sandbox):
    settings.EVOLINK_API_KEY = "sk-deployment-key-0000"
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert f"The built-in sandbox at {sandbox.url}" in page
    assert "The deployment&#x27;s key" not in page and "sk-deployment-key-0000" not in page


@pytest.mark.django_db
def test_a_key_no_encryption_key_can_read_is_said_so_on_the_page_and_in_its_test(
    owner_client, team, settings, tmp_path
):
    settings.DATA_DIR, settings.ENCRYPTION_KEYS = tmp_path, []
    save_key(owner_client, KEY)
    encryption.key_file().write_text(Fernet.generate_key().decode() + "\n")  # the old key is gone

    page = owner_client.get(reverse("studio:key"))
    assert page.status_code == 200
    assert "cannot be decrypted with the configured encryption keys" in page.content.decode()
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "can no longer be read. An owner must enter it again" in fragment
    assert KEY not in page.content.decode() + fragment


@pytest.mark.django_db
def test_an_htmx_save_answers_with_the_key_section(owner_client, team):
    response = save_key(owner_client, KEY, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="key"')
    assert f"The key ending in {KEY[-4:]} is saved." in body and f"sk-…{KEY[-4:]}" in body
    assert KEY not in body


@pytest.mark.django_db
def test_an_htmx_save_with_errors_answers_200_so_htmx_shows_them(owner_client, team):
    """htmx 2 swaps nothing on a 4xx answer: the errors must come with a 200."""
    refused = save_key(owner_client, KEY, api_base_url="https://10.0.0.1", **HTMX)
    body = refused.content.decode()
    assert refused.status_code == 200
    assert body.lstrip().startswith('<section id="key"')
    assert 'id="api_base_url-error"' in body and "internal or loopback" in body
    assert KEY not in body

    save_key(owner_client, KEY)
    again = save_key(owner_client, "", api_base_url="https://elsewhere.example", **HTMX)
    assert again.status_code == 200
    assert "Enter the key again to use it with a new address." in again.content.decode()
    team.refresh_from_db()
    assert team.api_base_url == ""


# -- what is accepted ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://example.com", "Enter an https:// address"),
        ("ftp://files.example.com", "Enter an https:// address"),
        ("https://127.0.0.1", "internal or loopback"),
        ("https://10.0.0.1", "internal or loopback"),
        ("https://[::1]", "internal or loopback"),
        ("https://[::ffff:127.0.0.1]", "internal or loopback"),
        ("https://localhost", "internal or loopback"),
        ("https://169.254.169.254/latest", "internal or loopback"),
        ("https://user:secret@api.example.com", "without a user name"),
        ("not a url", "Enter an https:// address"),
    ],
)
@pytest.mark.parametrize("field", ["api_base_url", "files_base_url"])
@pytest.mark.django_db
def test_a_base_url_that_is_not_public_https_is_refused_and_nothing_is_saved(
    owner_client, team, field, url, message
):
    response = save_key(owner_client, KEY, **{field: url})
    page = response.content.decode()
    assert response.status_code == 400
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    assert error and message in error.group(1)
    assert 'aria-invalid="true"' in page
    team.refresh_from_db()
    assert not team.has_api_key and team.api_base_url == "" and team.files_base_url == ""
    assert actions(team) == []


@pytest.mark.django_db
def test_the_built_in_sandbox_address_is_accepted_though_it_is_plain_http_on_loopback(
    owner_client, team, sandbox
):
    assert (
        save_key(owner_client, KEY, api_base_url=sandbox.url, files_base_url=sandbox.url + "/").status_code
        == 302
    )
    team.refresh_from_db()
    assert team.api_base_url == team.files_base_url == sandbox.url
    assert account_for(team).is_sandbox
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert f"The team's key, at the built-in sandbox ({sandbox.url})." in page


@pytest.mark.django_db
def test_without_the_sandbox_in_use_its_address_is_refused_as_a_base_url(owner_client, team, sandbox, settings):
    """Whatever listens at SANDBOX_URL on a deployment that runs no sandbox is not the
    operator's: a team's key must not be sent there."""
    settings.USE_SANDBOX = False
    response = save_key(owner_client, KEY, api_base_url=sandbox.url, files_base_url=sandbox.url)
    assert response.status_code == 400
    assert "Enter an https:// address" in response.content.decode()
    team.refresh_from_db()
    assert not team.has_api_key and team.api_base_url == ""


@pytest.mark.django_db
def test_without_the_sandbox_in_use_a_key_stored_for_its_address_is_not_sent_there(
    owner_client, team, sandbox, settings
):
    save_key(owner_client, KEY, api_base_url=sandbox.url, files_base_url=sandbox.url)
    team.refresh_from_db()
    assert team.api_base_url == sandbox.url
    forget_served_calls(sandbox)
    settings.USE_SANDBOX = False
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "leads to an internal network address (or is not https)" in fragment
    assert served_calls(sandbox) == []


@pytest.mark.parametrize(
    "typed, message",
    [
        ("sk-two words", "spaces, line breaks or control characters"),
        ("sk-line\nbreak", "spaces, line breaks or control characters"),
        ("sk-\x1bescape", "spaces, line breaks or control characters"),
        ("sk-\x00null", "Null characters are not allowed"),
        ("sk-" + "x" * 198, "at most 200 characters"),
        # An HTTP header carries ASCII only: these would fail later, inside httpx.
        ("sk-clé-secrète-42", "only ASCII letters, digits and punctuation"),
        ("sk-キー1234567890", "only ASCII letters, digits and punctuation"),
        ("sk-nbsp\u00a0inside", "only ASCII letters, digits and punctuation"),
        ("sk-Qx9", "at least 8 characters"),
    ],
)
@pytest.mark.django_db
def test_a_key_that_cannot_be_a_key_is_refused_without_repeating_it(owner_client, team, typed, message):
    response = save_key(owner_client, typed)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in re.search(r'<p class="error" id="api_key-error">([^<]*)</p>', page).group(1)
    assert typed[3:] not in page
    team.refresh_from_db()
    assert not team.has_api_key
    assert actions(team) == []


# -- testing the key -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("sandbox")  # the team has no key: the sandbox answers
def test_testing_with_no_key_says_it_was_the_sandbox_that_answered(owner_client):
    page = owner_client.get(reverse("studio:key")).content.decode()
    assert '<div id="test-result" role="status">' in page
    assert 'hx-post="/team/key/test" hx-target="#test-result"' in page

    fragment = owner_client.post(reverse("studio:test-key"), **HTMX)
    assert fragment.status_code == 200
    text = " ".join(fragment.content.decode().split())
    assert "No key is set, so the built-in sandbox was tested (http://127.0.0.1:" in text
    assert re.search(r"It works: [\d.]+ credits remaining \([\d.]+ used\)\.", text)
    assert "key works" not in text and "team's key" not in text
    assert "<html" not in text
    assert ">Test the sandbox</button>" in page


@pytest.mark.django_db
def test_testing_the_teams_key_says_it_was_the_teams_key(owner_client, team, keyed_sandbox, settings):
    settings.EVOLINK_BASE_URL = keyed_sandbox.url  # the default address, where the team's key goes
    team.set_api_key(keyed_sandbox.api_key)
    team.save()
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    text = " ".join(fragment.split())
    assert f"Tested the team's key at {keyed_sandbox.url}." in text
    assert "It works:" in text and "No key is set" not in text
    assert keyed_sandbox.api_key not in fragment
    assert ">Test the key</button>" in owner_client.get(reverse("studio:key")).content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("sandbox")  # the team has no key: the sandbox answers
def test_testing_the_key_without_htmx_shows_the_result_on_the_page(owner_client):
    response = owner_client.post(reverse("studio:test-key"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    assert re.search(r'<div id="test-result" role="status">\s*<p class="notice-ok">\s*<strong', page)
    assert "It works:" in page


@pytest.mark.django_db
def test_a_refused_key_is_reported_in_a_plain_sentence(owner_client, team, sandbox):
    save_key(owner_client, KEY, api_base_url=sandbox.url)  # the sandbox knows another key
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "The API key was refused: it is invalid or has expired." in fragment
    assert 'class="notice-error"' in fragment
    assert KEY not in fragment


@pytest.mark.django_db
def test_an_unreachable_service_is_reported_in_a_plain_sentence(owner_client, team, settings):
    settings.EVOLINK_MAX_RETRIES = 0
    settings.SANDBOX_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there
    save_key(owner_client, KEY, api_base_url="http://127.0.0.1:9")
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "Could not reach the image service." in fragment


# -- the Django admin ------------------------------------------------------------------


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def admin_form(team, **changes):
    """The change form's fields as the browser would send them, with no memberships."""
    return {
        "name": team.name,
        "slug": team.slug,
        "monthly_budget": "",
        "api_key": "",
        "api_base_url": team.api_base_url,
        "files_base_url": team.files_base_url,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **changes,
    }


@pytest.mark.django_db
def test_the_admin_never_shows_the_key_nor_its_encrypted_form(admin_client, team):
    team.set_api_key(KEY)
    team.save()
    change = admin_client.get(reverse("admin:teams_team_change", args=[team.pk])).content.decode()
    listing = admin_client.get(reverse("admin:teams_team_changelist")).content.decode()
    for page in (change, listing):
        assert KEY not in page
        assert team.api_key_encrypted not in page
        assert f"sk-…{KEY[-4:]}" in page
    assert "api_key_encrypted" not in change
    assert "value=" not in re.search(r'<input type="password" name="api_key"[^>]*>', change).group(0)
    assert "Leave blank to keep the current key" in change


@pytest.mark.django_db
def test_saving_in_the_admin_with_a_blank_key_keeps_it(admin_client, team, operator):
    team.set_api_key(KEY)
    team.save()
    stored = team.api_key_encrypted
    response = admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]), admin_form(team, name="Acme")
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Acme" and team.api_key_encrypted == stored
    assert actions(team) == []


@pytest.mark.django_db
def test_typing_a_new_key_in_the_admin_replaces_it_and_is_audited(admin_client, team, operator):
    team.set_api_key(KEY)
    team.save()
    admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]), admin_form(team, api_key="sk-new-admin-1111")
    )
    team.refresh_from_db()
    assert encryption.decrypt(team.api_key_encrypted) == "sk-new-admin-1111"
    event = AuditEvent.objects.get(team=team)
    assert (event.action, event.actor, event.details) == ("key.set", operator, {"last4": "1111"})

    admin_client.post(reverse("admin:teams_team_change", args=[team.pk]), admin_form(team, remove_key="on"))
    team.refresh_from_db()
    assert not team.has_api_key
    assert actions(team) == ["key.set", "key.removed"]


@pytest.mark.django_db
def test_the_admin_refuses_an_internal_base_url(admin_client, team):
    response = admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]), admin_form(team, api_base_url="https://10.1.2.3")
    )
    assert response.status_code == 200  # the form again, with the error
    assert "internal or loopback" in response.content.decode()
    team.refresh_from_db()
    assert team.api_base_url == ""


@pytest.mark.django_db
def test_the_admin_sends_a_stored_key_to_a_new_address_only_if_it_is_typed_again(admin_client, team):
    team.set_api_key(KEY)
    team.save()
    url = reverse("admin:teams_team_change", args=[team.pk])

    response = admin_client.post(url, admin_form(team, files_base_url="https://attacker.example"))
    assert response.status_code == 200  # the form again, with the error
    assert "Enter the key again to use it with a new address." in response.content.decode()
    team.refresh_from_db()
    assert team.files_base_url == "" and encryption.decrypt(team.api_key_encrypted) == KEY

    assert admin_client.post(
        url, admin_form(team, api_base_url="https://eu.evolink.example", remove_key="on")
    )["Location"].endswith(reverse("admin:teams_team_changelist"))
    team.refresh_from_db()
    assert team.api_base_url == "https://eu.evolink.example" and not team.has_api_key


@pytest.mark.django_db
def test_the_admin_refuses_a_key_that_cannot_go_in_a_header(admin_client, team):
    response = admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]), admin_form(team, api_key="sk-clé-secrète-42")
    )
    assert "only ASCII letters, digits and punctuation" in response.content.decode()
    team.refresh_from_db()
    assert not team.has_api_key


def membership_forms(team, **changes_by_username):
    """The admin's membership inline as sent, each member's fields updated from changes_by_username."""
    data = {}
    memberships = list(Membership.objects.filter(team=team).select_related("user").order_by("pk"))
    for index, membership in enumerate(memberships):
        fields = {
            "id": membership.pk,
            "team": team.pk,
            "user": membership.user.pk,
            "role": membership.role,
            "monthly_budget": membership.monthly_budget or "",
            **changes_by_username.get(membership.user.get_username(), {}),
        }
        data.update({f"memberships-{index}-{name}": value for name, value in fields.items()})
    data["memberships-TOTAL_FORMS"] = data["memberships-INITIAL_FORMS"] = str(len(memberships))
    return data


@pytest.mark.django_db
def test_role_budget_and_removal_changes_in_the_admin_are_audited(
    admin_client, team, owner, teammate, operator
):
    make_user("vera", team, Membership.Role.VIEWER)
    form = admin_form(
        team,
        monthly_budget="100",
        **membership_forms(team, tom={"role": "admin", "monthly_budget": "5"}, vera={"DELETE": "on"}),
    )
    response = admin_client.post(reverse("admin:teams_team_change", args=[team.pk]), form)
    assert response.status_code == 302

    assert Membership.objects.get(user=teammate).role == "admin"
    assert not Membership.objects.filter(user__username="vera").exists()
    events = AuditEvent.objects.filter(team=team).order_by("id")
    assert {(event.action, event.target, tuple(sorted(event.details.items()))) for event in events} == {
        ("budget.changed", "", (("budget", "team"), ("from", None), ("to", "100"))),
        ("member.role", "tom", (("from", "member"), ("to", "admin"))),
        ("budget.changed", "tom", (("budget", "member"), ("from", None), ("member", "tom"), ("to", "5"))),
        ("member.removed", "vera", (("role", "viewer"),)),
    }
    assert {event.actor for event in events} == {operator}

    admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]),
        admin_form(team, monthly_budget="100", **membership_forms(team)),
    )
    assert AuditEvent.objects.filter(team=team).count() == 4  # nothing changed, nothing recorded


@pytest.mark.django_db
def test_an_admin_removed_in_the_django_admin_loses_the_invitations_they_made(admin_client, team, owner):
    adam = make_user("adam", team, Membership.Role.ADMIN)
    invitation, _token = Invitation.issue(team, adam, Membership.Role.ADMIN)
    form = admin_form(team, **membership_forms(team, adam={"DELETE": "on"}))
    assert admin_client.post(reverse("admin:teams_team_change", args=[team.pk]), form).status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


@pytest.mark.django_db
def test_the_audit_log_in_the_admin_is_read_only(admin_client, team, owner):
    event = audit.record(team, owner, audit.Action.KEY_REMOVED)
    assert admin_client.get(reverse("admin:teams_auditevent_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:teams_auditevent_change", args=[event.pk])).content.decode()
    assert "Acme studio" in page and 'name="_save"' not in page
    assert admin_client.get(reverse("admin:teams_auditevent_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:teams_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_the_invitation_admin_never_shows_the_token_hash(admin_client, team, owner):
    invitation, token = Invitation.issue(team, owner, Membership.Role.MEMBER, note="for Dana")
    listing = admin_client.get(reverse("admin:teams_invitation_changelist")).content.decode()
    change = admin_client.get(reverse("admin:teams_invitation_change", args=[invitation.pk])).content.decode()
    assert "for Dana" in listing
    for page in (listing, change):
        assert invitation.token_hash not in page and token not in page


# -- the key never leaks ------------------------------------------------------------------


@pytest.fixture
def every_log_record(caplog):
    """caplog, receiving every logger's records at DEBUG, SQL queries included."""
    caplog.set_level(logging.DEBUG)
    extra = []
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                logger.addHandler(caplog.handler)
                extra.append(logger)
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False
    for logger in extra:
        logger.removeHandler(caplog.handler)


def body_of(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def assert_key_absent(key, response):
    assert key.encode() not in body_of(response), response.request["PATH_INFO"]
    for name, value in response.items():
        assert key not in f"{name}: {value}"


def assert_no_record_holds(key, records):
    assert records, "nothing was logged: the capture is not working"
    for record in records:
        assert key not in record.getMessage()
        assert key not in repr(record.args)
        assert key not in (record.exc_text or "")


def exception_text(error):
    return "".join(traceback.format_exception(error)) + repr(error) + str(error.detail) + repr(vars(error))


@pytest.mark.django_db(transaction=True)
def test_the_team_key_never_appears_in_a_page_a_log_or_an_error(
    client, team, owner, keyed_sandbox, sandbox, settings, every_log_record
):
    """A whole working session with the team's key: set it, generate with a reference, look at
    everything a person or an operator would, test it, break it. The key shows up nowhere."""
    key = keyed_sandbox.api_key
    client.force_login(owner)
    # Only the built-in sandbox may be plain http on loopback: let this one pass as it.
    settings.SANDBOX_URL = keyed_sandbox.url
    seen = [save_key(client, key, api_base_url=keyed_sandbox.url, files_base_url=keyed_sandbox.url)]
    team.refresh_from_db()
    assert team.api_key_last4 == key[-4:]

    seen.append(client.post(reverse("studio:references"), {"images": [upload("one.png")]}, **HTMX))
    reference = Reference.objects.get(team=team)
    seen.append(
        client.post(
            reverse("studio:generate"),
            {
                "prompt": "a lighthouse at dawn",
                "size": "1:1",
                "n": 1,
                "references": [str(reference.public_id)],
            },
            **HTMX,
        )
    )
    generation = drive(Generation.objects.get(team=team))
    assert generation.status == Status.COMPLETED  # the keyed sandbox accepted the team's key
    image = generation.images.get()

    seen += [
        client.get(reverse("studio:playground")),
        client.get(reverse("studio:playground") + f"?g={generation.public_id}"),
        client.get(reverse("studio:history"), **HTMX),
        client.get(reverse("studio:generation", args=[generation.public_id]), **HTMX),
        client.get(reverse("studio:image", args=[image.public_id, "full"])),
        client.get(reverse("studio:image", args=[image.public_id, "thumb"])),
        client.post(reverse("studio:code"), {"prompt": "a lighthouse", "size": "1:1", "n": 1}, **HTMX),
        client.get(reverse("studio:key")),
        client.get(reverse("studio:budgets")),
        client.post(reverse("studio:test-key"), **HTMX),
        client.post(reverse("studio:test-key")),
        client.get(reverse("studio:usage")),
        client.get(reverse("teams:members")),
        client.get(reverse("teams:audit")),
    ]
    assert "credits remaining" in seen[-5].content.decode()  # the test-key fragment

    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    seen += [
        client.get(reverse("admin:teams_team_changelist")),
        client.get(reverse("admin:teams_team_change", args=[team.pk])),
        client.get(reverse("admin:teams_auditevent_changelist")),
        client.get(reverse("admin:generations_generation_change", args=[generation.pk])),
    ]
    for response in seen:
        assert response.status_code < 400, (response.request["PATH_INFO"], response.status_code)
        assert_key_absent(key, response)

    # Upstream failures: a refused key and a server error. Neither error carries the key.
    wrong = Team.objects.create(name="Wrong", slug="wrong", api_base_url=keyed_sandbox.url)
    wrong.set_api_key(key[::-1])
    wrong.save()
    with pytest.raises(EvoLinkError) as refused:
        client_for(wrong).get_credits()
    assert refused.value.status == 401
    httpx.post(
        f"{keyed_sandbox.url}/_sandbox/faults",
        json={"error_status": 500, "error_count": 1},
        headers=keyed_sandbox.headers,
    ).raise_for_status()
    with pytest.raises(EvoLinkError) as failed:
        client_for(team).get_credits()
    assert failed.value.status == 500
    for error in (refused.value, failed.value):
        assert key not in exception_text(error) and key[::-1] not in exception_text(error)

    assert_no_record_holds(key, every_log_record.records)
    assert any("generation" in record.getMessage() for record in every_log_record.records)


@pytest.mark.django_db(transaction=True)
def test_generations_use_the_team_key_and_after_its_removal_the_built_in_sandbox(
    client, team, owner, keyed_sandbox, sandbox, settings
):
    client.force_login(owner)
    settings.SANDBOX_URL = keyed_sandbox.url
    save_key(client, keyed_sandbox.api_key, api_base_url=keyed_sandbox.url)
    generate = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1}
    client.post(reverse("studio:generate"), generate)
    with_key = drive(Generation.objects.get(team=team))
    assert with_key.status == Status.COMPLETED, with_key.error_message  # only the team's key opens it
    assert with_key.result_urls[0].startswith(keyed_sandbox.url)
    # Plain http on loopback is fetched only from the built-in sandbox: the keyed one stood in for it.
    settings.SANDBOX_URL = sandbox.url

    client.post(reverse("studio:key"), {"action": "remove"})
    team.refresh_from_db()
    assert account_for(team).base_url == sandbox.url
    client.post(reverse("studio:generate"), generate)
    fallback = drive(Generation.objects.exclude(pk=with_key.pk).get(team=team))
    assert fallback.status == Status.COMPLETED  # the built-in sandbox accepted its own key
    assert fallback.result_urls[0].startswith(sandbox.url)
