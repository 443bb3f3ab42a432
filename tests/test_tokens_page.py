"""The tokens page: members make tokens shown once, see their own (owners and admins every one
of the team), revoke them; viewers make none; another team's token is a 404."""

import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.teams import tokens
from playground.teams.models import AuditEvent, Membership, PersonalToken

from .conftest import make_generation, make_user, signed_in
from .test_bad_input import error_text

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HX-Request": "true"}
PAGE = reverse("studio:tokens")
CREATE = reverse("studio:create-token")


def create(client, htmx=True, **fields):
    data = {"name": "nightly renders", "expires_on": "", "monthly_cap": "", **fields}
    return client.post(CREATE, data, headers=HTMX if htmx else {})


def shown_token(response):
    found = re.search(r'id="new-token"[^>]*value="(pgt_[^"]+)"', response.text) or re.search(
        r'value="(pgt_[^"]+)"[^>]*id="new-token"', response.text
    )
    assert found, "no new token in the page"
    return found.group(1)


def revoke(client, token, htmx=False):
    return client.post(reverse("studio:revoke-token", args=[token.prefix]), headers=HTMX if htmx else {})


@pytest.fixture
def admin(team):
    return make_user("ada", team, Role.ADMIN)


@pytest.fixture
def viewer(team):
    return make_user("vic", team, Role.VIEWER)


# -- making a token -------------------------------------------------------------------


def test_a_member_makes_a_token_and_sees_it_once(teammate):
    client = signed_in(teammate)
    response = create(client)
    assert response.status_code == 200
    plain = shown_token(response)
    assert plain.startswith("pgt_")
    assert "shown only this once" in response.text
    assert tokens.authenticate(plain).user == teammate

    page = client.get(PAGE)
    assert plain not in page.text
    assert plain[:12] in page.text  # its prefix names it in the list
    assert "nightly renders" in page.text


def test_the_new_token_comes_with_its_callback_secret(teammate):
    response = create(signed_in(teammate))
    token = PersonalToken.objects.get()
    assert tokens.callback_secret(token) in response.text


def test_without_htmx_the_page_shows_the_new_token_too(teammate):
    response = create(signed_in(teammate), htmx=False)
    assert response.status_code == 200
    assert "<html" in response.text
    assert tokens.authenticate(shown_token(response)) is not None


def test_an_expiry_and_a_cap_are_kept(teammate):
    day = timezone.localdate() + timedelta(days=10)
    create(signed_in(teammate), expires_on=day.isoformat(), monthly_cap="12.5")
    token = PersonalToken.objects.get()
    assert token.monthly_cap == Decimal("12.5")
    assert timezone.localtime(token.expires_at).date() == day + timedelta(
        days=1
    )  # it works all of its last day
    assert timezone.localtime(token.expires_at).hour == 0


@pytest.mark.parametrize(
    ("field", "fields", "words"),
    [
        ("name", {"name": ""}, "This field is required."),
        ("name", {"name": "   "}, "This field is required."),
        ("name", {"name": "x" * 101}, "at most 100 characters"),
        ("expires_on", {"expires_on": "2020-01-01"}, "Choose today or a later day"),
        ("expires_on", {"expires_on": "9999-12-31"}, "within the next 5 years"),
        ("expires_on", {"expires_on": "tomorrow"}, "Enter a valid date."),
        ("monthly_cap", {"monthly_cap": "-1"}, "0 or more"),
        ("monthly_cap", {"monthly_cap": "lots"}, "0 or more"),
        ("monthly_cap", {"monthly_cap": "1.555"}, "at most 2 decimals"),
        ("monthly_cap", {"monthly_cap": "1e400"}, "0 or more"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_makes_nothing(teammate, field, fields, words):
    client = signed_in(teammate)
    response = create(client, **fields)
    assert response.status_code == 200
    assert words in error_text(response, field)
    assert PersonalToken.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert "pgt_" not in response.text
    assert create(client, htmx=False, **fields).status_code == 400


def test_the_form_keeps_what_was_typed_after_an_error(teammate):
    response = create(signed_in(teammate), name="ci", monthly_cap="-3")
    assert 'value="ci"' in response.text
    assert 'value="-3"' in response.text


def test_a_viewer_makes_no_token(viewer):
    client = signed_in(viewer)
    assert create(client).status_code == 403
    assert PersonalToken.objects.count() == 0
    page = client.get(PAGE)
    assert page.status_code == 200
    assert CREATE not in page.text
    assert "Viewers make no tokens" in page.text


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    assert client.get(PAGE).status_code == 302
    assert client.post(CREATE, {"name": "x"}).status_code == 302
    assert PersonalToken.objects.count() == 0


def test_making_a_token_is_in_the_audit_log_without_the_token(team, owner, teammate):
    plain = shown_token(create(signed_in(teammate)))
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_CREATED)
    assert (event.actor, event.target) == (teammate, "nightly renders")
    audit_page = signed_in(owner).get(reverse("teams:audit"))
    assert "Personal token created" in audit_page.text
    assert plain[:12] in audit_page.text
    assert plain not in audit_page.text


def test_the_token_is_in_no_log_line(teammate, caplog):
    caplog.set_level(logging.DEBUG)
    plain = shown_token(create(signed_in(teammate)))
    assert plain not in caplog.text


# -- who sees which tokens ----------------------------------------------------------------


def test_a_member_sees_only_their_own_tokens(team, owner, teammate):
    tokens.issue(team, owner, name="owner script")
    tokens.issue(team, teammate, name="tom notebook")
    page = signed_in(teammate).get(PAGE)
    assert "tom notebook" in page.text
    assert "owner script" not in page.text
    assert "Your tokens" in page.text


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owners_and_admins_see_every_token_of_the_team_with_its_holder(team, owner, admin, teammate, who):
    tokens.issue(team, teammate, name="tom notebook")
    page = signed_in({"owner": owner, "admin": admin}[who]).get(PAGE)
    assert "tom notebook" in page.text
    assert ">tom<" in page.text
    assert "The team's tokens" in page.text


def test_another_teams_tokens_are_not_listed(team, owner, outsider, other_team):
    tokens.issue(other_team, outsider, name="rival secret project")
    assert "rival secret project" not in signed_in(owner).get(PAGE).text


def test_the_list_shows_last_use_and_this_months_spend_against_the_cap(team, teammate):
    token, _plain = tokens.issue(team, teammate, name="ci", monthly_cap=Decimal("10"))
    tokens.touch(token, "198.51.100.7")
    make_generation(team, teammate, token=token, credits_estimated=Decimal("3"))
    make_generation(team, teammate, token=token, credits_estimated=Decimal("1.5"))
    make_generation(team, teammate, credits_estimated=Decimal("100"))  # made on the page
    page = signed_in(teammate).get(PAGE).text
    row = page.split(f'id="token-{token.prefix}"')[1].split("</tr>")[0]
    assert "198.51.100.7" in row
    assert "4.5 of 10 credits" in row
    assert "Active" in row


def test_a_token_never_used_says_so(team, teammate):
    tokens.issue(team, teammate, name="ci")
    assert "Never" in signed_in(teammate).get(PAGE).text


def test_expired_and_revoked_tokens_say_so(team, teammate):
    old, _ = tokens.issue(team, teammate, name="old", expires_at=timezone.now() - timedelta(days=1))
    gone, _ = tokens.issue(team, teammate, name="gone")
    tokens.revoke(gone, teammate)
    page = signed_in(teammate).get(PAGE).text
    assert "Expired" in page.split(f'id="token-{old.prefix}"')[1].split("</tr>")[0]
    assert "Revoked" in page.split(f'id="token-{gone.prefix}"')[1].split("</tr>")[0]


# -- revoking ----------------------------------------------------------------------------


def test_a_member_revokes_their_own_token(team, teammate):
    token, plain = tokens.issue(team, teammate, name="ci")
    response = revoke(signed_in(teammate), token, htmx=True)
    assert response.status_code == 200
    assert "was revoked" in response.text
    assert tokens.authenticate(plain) is None


def test_a_plain_revoke_redirects_back_with_a_message(team, teammate):
    token, _plain = tokens.issue(team, teammate, name="ci")
    client = signed_in(teammate)
    response = revoke(client, token)
    assert response.status_code == 302
    assert "was revoked" in client.get(response.url).text


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owners_and_admins_revoke_a_teammates_token_and_it_is_logged(team, owner, admin, teammate, who):
    actor = {"owner": owner, "admin": admin}[who]
    token, plain = tokens.issue(team, teammate, name="ci")
    assert revoke(signed_in(actor), token).status_code == 302
    assert tokens.authenticate(plain) is None
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert (event.actor, event.target, event.details["member"]) == (actor, "ci", "tom")


def test_a_member_cannot_revoke_a_teammates_token(team, owner, teammate):
    token, plain = tokens.issue(team, owner, name="owner script")
    assert revoke(signed_in(teammate), token).status_code == 404
    assert tokens.authenticate(plain) is not None


def test_another_teams_token_is_a_404(team, teammate, other_team, outsider):
    token, plain = tokens.issue(team, teammate, name="ci")
    client = signed_in(outsider)
    assert revoke(client, token).status_code == 404
    assert client.get(reverse("studio:token-callback-secret", args=[token.prefix])).status_code == 404
    assert tokens.authenticate(plain) is not None


def test_an_unknown_prefix_is_a_404(teammate):
    assert revoke(signed_in(teammate), PersonalToken(prefix="pgt_nothing0")).status_code == 404


def test_revoking_a_member_on_the_team_page_revokes_their_tokens(team, owner, teammate):
    _token, plain = tokens.issue(team, teammate, name="ci")
    membership = Membership.objects.get(user=teammate)
    signed_in(owner).post(reverse("teams:remove-member", args=[membership.pk]))
    assert tokens.authenticate(plain) is None


def test_making_a_member_a_viewer_on_the_team_page_revokes_their_tokens(team, owner, teammate):
    _token, plain = tokens.issue(team, teammate, name="ci")
    membership = Membership.objects.get(user=teammate)
    signed_in(owner).post(reverse("teams:change-role", args=[membership.pk]), {"role": "viewer"})
    assert tokens.authenticate(plain) is None
    audit_page = signed_in(owner).get(reverse("teams:audit")).text
    assert "Its holder was made a viewer" in audit_page


# -- the callback secret -----------------------------------------------------------------


def test_the_holder_sees_their_tokens_callback_secret(team, teammate):
    token, _plain = tokens.issue(team, teammate, name="ci")
    url = reverse("studio:token-callback-secret", args=[token.prefix])
    response = signed_in(teammate).get(url, headers=HTMX)
    assert response.status_code == 200
    assert tokens.callback_secret(token) in response.text


def test_nobody_else_sees_a_tokens_callback_secret(team, owner, teammate):
    token, _plain = tokens.issue(team, teammate, name="ci")
    url = reverse("studio:token-callback-secret", args=[token.prefix])
    assert signed_in(owner).get(url).status_code == 404
    assert tokens.callback_secret(token) not in signed_in(owner).get(PAGE).text


def test_the_page_is_linked_from_the_header(teammate):
    assert f'href="{PAGE}"' in signed_in(teammate).get(reverse("studio:usage")).text


def test_the_page_names_the_base_url_scripts_use(teammate):
    page = signed_in(teammate).get(PAGE).text
    assert "<code>http://testserver</code>" in page


def test_the_base_url_is_the_public_address_when_one_is_set(teammate, settings):
    settings.PUBLIC_BASE_URL = "https://images.example.com/"
    assert "<code>https://images.example.com</code>" in signed_in(teammate).get(PAGE).text
