"""Personal tokens: issued once, stored hashed, recognisable, expiring, revocable, and capped."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from playground.generations import credits, lifecycle
from playground.generations.models import Generation
from playground.teams import memberships, tokens
from playground.teams.models import AuditEvent, Membership, PersonalToken

from .conftest import make_generation

pytestmark = pytest.mark.django_db


def issue(team, user, **options):
    return tokens.issue(team, user, name=options.pop("name", "notebook"), **options)


def test_a_token_is_recognisable_by_its_prefix_and_its_list_prefix_starts_it(team, teammate):
    token, plain = issue(team, teammate)
    assert plain.startswith("pgt_")
    assert len(plain) > 40
    assert plain.startswith(token.prefix)
    assert len(token.prefix) == 12


def test_only_a_hash_of_the_token_is_stored(team, teammate):
    token, plain = issue(team, teammate)
    stored = PersonalToken.objects.filter(pk=token.pk).values().get()
    assert plain not in str(stored)
    assert token.token_hash == tokens.hash_token(plain)


def test_each_token_is_different(team, teammate):
    plains = {issue(team, teammate)[1] for _ in range(5)}
    assert len(plains) == 5


def test_the_token_authenticates_as_its_holder_in_its_team(team, teammate):
    token, plain = issue(team, teammate)
    found = tokens.authenticate(plain)
    assert found == token
    assert found.team == team and found.user == teammate


@pytest.mark.parametrize("raw", ["", "pgt_", "pgt_nope", "sk-something", None, "x" * 500, "pgt_" + "a" * 300])
def test_a_wrong_token_authenticates_as_nobody(team, teammate, raw):
    issue(team, teammate)
    assert tokens.authenticate(raw) is None


def test_a_token_with_one_character_changed_authenticates_as_nobody(team, teammate):
    _token, plain = issue(team, teammate)
    changed = plain[:-1] + ("A" if plain[-1] != "A" else "B")
    assert tokens.authenticate(changed) is None


def test_an_expired_token_authenticates_as_nobody(team, teammate):
    token, plain = issue(team, teammate, expires_at=timezone.now() + timedelta(days=1))
    assert tokens.authenticate(plain) == token
    PersonalToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tokens.authenticate(plain) is None
    token.refresh_from_db()
    assert not token.is_active


def test_a_revoked_token_authenticates_as_nobody_and_the_revocation_is_logged(team, owner, teammate):
    token, plain = issue(team, teammate)
    assert tokens.revoke(token, owner)
    assert tokens.authenticate(plain) is None
    assert not token.is_active
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert (event.actor, event.target, event.details["prefix"]) == (owner, "notebook", token.prefix)
    assert not tokens.revoke(token, owner)  # once is enough
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED).count() == 1


def test_creation_is_logged_without_the_token(team, owner, teammate):
    token, plain = issue(team, teammate, actor=owner)
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_CREATED)
    assert (event.actor, event.target) == (owner, "notebook")
    assert event.details == {"prefix": token.prefix, "member": "tom"}
    assert plain not in str(AuditEvent.objects.values().get(pk=event.pk))


def test_removing_a_member_revokes_their_tokens_only(team, owner, teammate):
    _theirs, their_plain = issue(team, teammate)
    _mine, my_plain = issue(team, owner)
    memberships.remove_member(Membership.objects.get(user=owner), Membership.objects.get(user=teammate).pk)
    assert tokens.authenticate(their_plain) is None
    assert tokens.authenticate(my_plain) is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert event.details["reason"] == tokens.MEMBER_REMOVED


def test_making_a_member_a_viewer_revokes_their_tokens(team, owner, teammate):
    token, plain = issue(team, teammate)
    memberships.change_role(
        Membership.objects.get(user=owner), Membership.objects.get(user=teammate).pk, "viewer"
    )
    assert tokens.authenticate(plain) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Made a member again, the old token stays revoked.
    memberships.change_role(
        Membership.objects.get(user=owner), Membership.objects.get(user=teammate).pk, "member"
    )
    assert tokens.authenticate(plain) is None


def test_a_member_who_leaves_loses_their_tokens(team, teammate):
    _token, plain = issue(team, teammate)
    memberships.leave(Membership.objects.get(user=teammate))
    assert tokens.authenticate(plain) is None


def test_a_token_works_only_while_its_holder_may_generate_in_its_team(team, teammate):
    _token, plain = issue(team, teammate)
    # Even a role changed behind the operations' back (a raw update) stops the token.
    Membership.objects.filter(user=teammate).update(role=Membership.Role.VIEWER)
    assert tokens.authenticate(plain) is None


def test_touch_records_when_and_from_where(team, teammate):
    token, _plain = issue(team, teammate)
    tokens.touch(token, "203.0.113.9")
    token.refresh_from_db()
    assert token.last_used_ip == "203.0.113.9"
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_touch_from_a_new_address_is_recorded_at_once(team, teammate):
    token, _plain = issue(team, teammate)
    tokens.touch(token, "203.0.113.9")
    tokens.touch(token, "2001:db8::1")
    token.refresh_from_db()
    assert token.last_used_ip == "2001:db8::1"


def test_the_callback_secret_is_stored_encrypted_and_differs_per_token(team, teammate):
    first, _ = issue(team, teammate)
    second, _ = issue(team, teammate)
    secret = tokens.callback_secret(first)
    assert len(secret) > 30
    assert secret not in first.callback_secret_encrypted
    assert secret != tokens.callback_secret(second)


# -- the monthly cap ---------------------------------------------------------------


def test_reserve_refuses_over_the_tokens_monthly_cap_in_words(team, teammate, settings):
    settings.CREDITS_PER_IMAGE = 1.5
    token, _plain = issue(team, teammate, name="ci runner", monthly_cap=Decimal("4"))
    make_generation(team, teammate, token=token, credits_estimated=Decimal("3"))
    with pytest.raises(credits.BudgetExceeded) as refused:
        credits.reserve(team, teammate, 1, token=token)
    assert refused.value.message == (
        "This needs 1.5 credits, but the monthly cap of the token “ci runner” has 1 of 4 credits left. "
        "Choose fewer images, or raise the token's cap on its page."
    )


def test_the_cap_counts_only_this_tokens_generations_this_month(team, teammate, settings):
    settings.CREDITS_PER_IMAGE = 1
    token, _plain = issue(team, teammate, monthly_cap=Decimal("2"))
    other, _ = issue(team, teammate, name="other")
    make_generation(team, teammate, credits_estimated=Decimal("50"))  # made on the page
    make_generation(team, teammate, token=other, credits_estimated=Decimal("50"))
    last_month = credits.month_start() - timedelta(days=3)
    make_generation(team, teammate, token=token, credits_estimated=Decimal("50"), created_at=last_month)
    assert credits.reserve(team, teammate, 2, token=token) == Decimal(2)
    assert credits.budgets_left(team, teammate, token)["token"]["left"] == Decimal(2)


def test_no_cap_means_no_limit_from_the_token(team, teammate):
    token, _plain = issue(team, teammate)
    make_generation(team, teammate, token=token, credits_estimated=Decimal("5000"))
    assert "token" not in credits.budgets_left(team, teammate, token)
    assert credits.reserve(team, teammate, 4, token=token) > 0


def test_the_members_budget_still_applies_to_a_token(team, teammate):
    Membership.objects.filter(user=teammate).update(monthly_budget=Decimal("1"))
    token, _plain = issue(team, teammate, monthly_cap=Decimal("100"))
    with pytest.raises(credits.BudgetExceeded) as refused:
        credits.reserve(team, teammate, 1, token=token)
    assert "your monthly budget" in refused.value.message


def test_a_create_over_the_cap_writes_nothing(team, teammate):
    token, _plain = issue(team, teammate, monthly_cap=Decimal("0"))
    with pytest.raises(credits.BudgetExceeded):
        lifecycle.create(team, teammate, prompt="a kite", size="1:1", n=1, token=token)
    assert Generation.objects.count() == 0


def test_a_create_with_a_token_keeps_it_on_the_generation(team, teammate, monkeypatch):
    monkeypatch.setattr(lifecycle, "enqueue_submit", lambda pk: None)
    token, _plain = issue(team, teammate)
    generation = lifecycle.create(team, teammate, prompt="a kite", size="1:1", n=1, token=token)
    assert Generation.objects.get(pk=generation.pk).token == token
    assert list(token.generations.all()) == [generation]


def test_a_prefix_taken_already_is_drawn_again(team, teammate, monkeypatch):
    first, _plain = issue(team, teammate)
    draws = iter([first.prefix + "a" * 35, "pgt_" + "b" * 43])
    monkeypatch.setattr(tokens, "new_plain", lambda: next(draws))
    second, plain = issue(team, teammate, name="second")
    assert plain == "pgt_" + "b" * 43
    assert second.prefix == "pgt_bbbbbbbb"
