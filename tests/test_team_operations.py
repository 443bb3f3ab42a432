"""The team operations called as the admin, a script or a page would: joining is all or
nothing, a member or invitation gone meanwhile is the domain's own error, and the
operators' admin keeps the page's rules (budgets not negative, additions audited, an owner
kept)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.urls import reverse

from playground.teams import invitations, memberships
from playground.teams.models import AuditEvent, Invitation, Membership, Team
from playground.teams.roles import NotInTeam

from .conftest import PASSWORD, make_user
from .test_team_key import admin_form, membership_forms

pytestmark = pytest.mark.django_db
Role = Membership.Role
BUDGET_RULE = "Enter a number of credits, 0 or more, with at most 2 decimals (or leave it blank for no limit)."


@pytest.fixture
def operator():
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def change_team(client, team, form):
    return client.post(reverse("admin:teams_team_change", args=[team.pk]), form)


# -- joining ------------------------------------------------------------------------------------


def test_joining_through_a_link_taken_meanwhile_changes_nothing(team, owner):
    invitation, _token = Invitation.issue(team, owner, Role.MEMBER)
    nina, nick = make_user("nina", None), make_user("nick", None)
    invitations.join(invitation, nina)

    with pytest.raises(invitations.InvitationTaken):
        invitations.join(invitation, nick)

    assert not Membership.objects.filter(user=nick).exists()
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1


def test_signing_up_through_a_link_taken_meanwhile_makes_no_account(team, owner):
    invitation, _token = Invitation.issue(team, owner, Role.VIEWER)
    invitations.join(invitation, make_user("nina", None))
    form = UserCreationForm({"username": "nick", "password1": PASSWORD, "password2": PASSWORD})
    assert form.is_valid()

    with pytest.raises(invitations.InvitationTaken):
        invitations.sign_up_and_join(invitation, form)

    assert not get_user_model().objects.filter(username="nick").exists()


def test_signing_up_and_joining_makes_the_account_and_its_membership(team, owner):
    invitation, _token = Invitation.issue(team, owner, Role.VIEWER)
    form = UserCreationForm({"username": "nick", "password1": PASSWORD, "password2": PASSWORD})
    assert form.is_valid()

    membership = invitations.sign_up_and_join(invitation, form)

    assert (membership.user.username, membership.team, membership.role) == ("nick", team, Role.VIEWER)
    assert membership.user.check_password(PASSWORD)


def test_the_teams_pages_lead_home_to_the_playground():
    assert resolve_url(settings.LOGIN_REDIRECT_URL) == reverse("studio:playground")


def test_a_dead_link_leads_back_to_the_playground(client, team, owner, teammate):
    client.force_login(teammate)
    page = client.get(reverse("teams:accept-invitation", args=["no-such-token"]))
    assert page.status_code == 404
    assert f'<a href="{reverse("studio:playground")}">Back to the playground</a>' in page.content.decode()


# -- gone meanwhile -----------------------------------------------------------------------------


def test_acting_on_a_member_gone_meanwhile_is_not_in_team(team, owner, teammate):
    actor = Membership.objects.get(user=owner)
    gone = Membership.objects.get(user=teammate)
    gone.delete()

    with pytest.raises(NotInTeam):
        memberships.change_role(actor, gone.pk, Role.VIEWER)
    with pytest.raises(NotInTeam):
        memberships.remove_member(actor, gone.pk)
    with pytest.raises(NotInTeam):
        memberships.leave(gone)


def test_revoking_another_teams_invitation_finds_none(team, owner, other_team, outsider):
    theirs, _token = Invitation.issue(other_team, outsider, Role.MEMBER)

    with pytest.raises(Invitation.DoesNotExist):
        invitations.revoke(team, theirs.pk, owner)

    theirs.refresh_from_db()
    assert theirs.is_pending


# -- the operators' admin -----------------------------------------------------------------------


def test_budgets_are_never_negative(team, owner):
    team.monthly_budget = Decimal("-1")
    membership = Membership.objects.get(user=owner)
    membership.monthly_budget = Decimal("-0.01")

    for row in (team, membership):
        with pytest.raises(ValidationError) as refusal:
            row.full_clean()
        assert refusal.value.message_dict["monthly_budget"] == [BUDGET_RULE]


def test_the_admin_refuses_negative_budgets_in_the_pages_words(operator_client, team, owner):
    form = admin_form(team, monthly_budget="-5", **membership_forms(team, olivia={"monthly_budget": "-1"}))

    page = change_team(operator_client, team, form)

    assert page.status_code == 200
    assert page.content.decode().count(BUDGET_RULE) == 2
    team.refresh_from_db()
    assert team.monthly_budget is None and Membership.objects.get(user=owner).monthly_budget is None
    assert not AuditEvent.objects.exists()


def test_a_member_added_in_the_admin_is_audited(operator_client, operator, team, owner):
    nina = make_user("nina", None)
    form = admin_form(team, **membership_forms(team))
    count = int(form["memberships-TOTAL_FORMS"])
    form.update({
        f"memberships-{count}-team": team.pk,
        f"memberships-{count}-user": nina.pk,
        f"memberships-{count}-role": Role.ADMIN,
        f"memberships-{count}-monthly_budget": "7",
        "memberships-TOTAL_FORMS": str(count + 1),
    })

    assert change_team(operator_client, team, form).status_code == 302

    added = Membership.objects.get(user=nina)
    assert (added.team, added.role, added.monthly_budget) == (team, Role.ADMIN, Decimal(7))
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_ADDED)
    assert (event.team, event.actor, event.target, event.details) == (team, operator, "nina", {"role": "admin"})


@pytest.mark.parametrize("change", [{"role": "member"}, {"DELETE": "on"}])
def test_the_admin_keeps_the_last_owner(operator_client, team, owner, teammate, change):
    page = change_team(operator_client, team, admin_form(team, **membership_forms(team, olivia=change)))

    assert page.status_code == 200
    assert "A team needs at least one owner. Make someone else an owner first." in page.content.decode()
    assert Membership.objects.get(user=owner).role == Role.OWNER
    assert not AuditEvent.objects.exists()


def test_the_admin_may_hand_ownership_over_in_one_save(operator_client, team, owner, teammate):
    form = admin_form(team, **membership_forms(team, olivia={"role": "member"}, tom={"role": "owner"}))

    assert change_team(operator_client, team, form).status_code == 302

    assert set(Membership.objects.filter(role=Role.OWNER).values_list("user__username", flat=True)) == {"tom"}


def test_a_team_made_in_the_admin_needs_no_owner_yet(operator_client):
    form = admin_form(Team(name="New", slug="new"), monthly_budget="")

    assert operator_client.post(reverse("admin:teams_team_add"), form).status_code == 302
    assert Team.objects.filter(slug="new").exists()
