"""`manage.py token`: operators and scripts make a member's token (printed once), list and revoke them."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from playground.teams import tokens
from playground.teams.models import AuditEvent, Membership, PersonalToken

from .conftest import make_user

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_token_alone_and_it_works(team, teammate, capsys):
    printed = run("create", "--user", "tom", "--name", "nightly")
    plain = printed.strip()
    assert printed == plain + "\n"
    token = tokens.authenticate(plain)
    assert (token.user, token.team, token.name) == (teammate, team, "nightly")
    assert plain not in capsys.readouterr().err  # the note on stderr names it by its prefix only
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_CREATED, target="nightly").exists()


def test_create_takes_days_and_a_cap(team, teammate):
    run("create", "--user", "tom", "--days", "30", "--monthly-cap", "12.50")
    token = PersonalToken.objects.get()
    assert str(token.monthly_cap) == "12.50"
    assert token.expires_at is not None


def test_create_asks_for_the_team_when_the_member_is_in_several(team, other_team, teammate):
    Membership.objects.create(team=other_team, user=teammate)
    with pytest.raises(CommandError, match="several teams"):
        run("create", "--user", "tom")
    plain = run("create", "--user", "tom", "--team", "rival").strip()
    assert tokens.authenticate(plain).team == other_team


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--user", "nobody"], "No user 'nobody'"),
        (["--user", "tom", "--team", "rival"], "not in the team 'rival'"),
        (["--user", "tom", "--name", " "], "--name"),
        (["--user", "tom", "--days", "0"], "--days"),
        (["--user", "tom", "--monthly-cap", "-1"], "--monthly-cap"),
        (["--user", "tom", "--monthly-cap", "NaN"], "--monthly-cap"),
        (["--user", "tom", "--monthly-cap", "1.234"], "--monthly-cap"),
        (["--user", "vic"], "viewers make no tokens"),
    ],
)
def test_create_refuses_in_words_and_makes_nothing(team, teammate, args, words):
    make_user("vic", team, Membership.Role.VIEWER)
    with pytest.raises(CommandError, match=words):
        run("create", *args)
    assert PersonalToken.objects.count() == 0


def test_list_shows_prefixes_never_tokens(team, teammate):
    token, plain = tokens.issue(team, teammate, name="ci")
    listed = run("list")
    assert token.prefix in listed and "ci" in listed and "active" in listed
    assert plain not in listed


def test_revoke_by_prefix(team, teammate):
    token, plain = tokens.issue(team, teammate, name="ci")
    assert "Revoked" in run("revoke", token.prefix)
    assert tokens.authenticate(plain) is None
    with pytest.raises(CommandError, match="revoked already"):
        run("revoke", token.prefix)
    with pytest.raises(CommandError, match="No token"):
        run("revoke", "pgt_unknown0")


# -- the operators' admin ------------------------------------------------------------------


@pytest.fixture
def operator_client(client):
    operator = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(operator)
    return client


def test_operators_list_tokens_by_prefix_and_revoke_them_logged(operator_client, team, teammate):
    token, plain = tokens.issue(team, teammate, name="ci")
    changelist = reverse("admin:teams_personaltoken_changelist")
    page = operator_client.get(changelist).text
    assert token.prefix in page and plain not in page and token.token_hash not in page
    assert "delete_selected" not in page  # revoked, never deleted
    operator_client.post(changelist, {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert tokens.authenticate(plain) is None
    assert AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED).actor_name == "root"


def test_a_token_page_in_the_admin_holds_no_secret(operator_client, team, teammate):
    token, plain = tokens.issue(team, teammate, name="ci")
    page = operator_client.get(reverse("admin:teams_personaltoken_change", args=[token.pk])).text
    assert token.prefix in page
    for secret in (plain, token.token_hash, token.callback_secret_encrypted, tokens.callback_secret(token)):
        assert secret not in page
