"""The audit log page: who changed what, for owners and admins of the team only."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from playground.teams import audit, budgets
from playground.teams.models import AuditEvent, Invitation, Membership

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

Role = Membership.Role
Action = AuditEvent.Action


def audit_page(client, **query):
    return client.get(reverse("teams:audit"), query)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_get_403(client, team, role):
    client.force_login(make_user("val", team, role))
    assert audit_page(client).status_code == 403


def test_the_page_asks_a_signed_out_visitor_to_sign_in(client):
    response = audit_page(client)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_see_who_changed_what_and_when(client, team, owner, teammate, role):
    audit.record(team, owner, Action.ROLE_CHANGED, "tom", **{"from": "member", "to": "admin"})
    client.force_login(make_user("ada", team, role))
    response = audit_page(client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "olivia" in page and "Role changed" in page and "tom" in page
    assert "<dt>From</dt> <dd>Member</dd>" in page and "<dt>To</dt> <dd>Admin</dd>" in page
    event = AuditEvent.objects.get()
    assert f'<time datetime="{timezone.localtime(event.created_at).isoformat()}">' in page


def test_details_are_named_and_roles_and_blanks_shown_as_words(owner_client, team, owner):
    audit.record(team, owner, Action.INVITATION_REVOKED, "Jane", role="viewer", reason="inviter-lost-right")
    audit.record(team, owner, Action.BUDGET_CHANGED, "tom", member="tom", **{"from": None, "to": "100"})
    audit.record(team, owner, Action.UPSTREAM_CHANGED, api_base_url="https://api.example", files_base_url="")
    audit.record(team, owner, Action.KEY_SET, last4="wxyz")
    page = audit_page(owner_client).content.decode()
    assert "<dt>Role</dt> <dd>Viewer</dd>" in page
    assert "<dt>Reason</dt> <dd>The person who made it may no longer invite with this role</dd>" in page
    assert "Budget of tom</td>" in page and "<dt>Member</dt>" not in page  # whose budget: in the target
    assert "<dt>From</dt> <dd>—</dd>" in page and "<dt>To</dt> <dd>100</dd>" in page
    assert "<dt>API base URL</dt> <dd>https://api.example</dd>" in page
    assert "<dt>File hosting base URL</dt> <dd>—</dd>" in page
    assert "<dt>Key ends in</dt> <dd>wxyz</dd>" in page
    assert "None" not in page and "api_base_url" not in page


def test_the_team_budget_is_named_as_the_teams_not_as_a_member_called_team(owner_client, team, owner, teammate):
    budgets.set_budget(team, owner, None, Decimal(100))
    budgets.set_budget(team, owner, Membership.objects.get(user=teammate), Decimal(5))
    page = audit_page(owner_client).content.decode()
    assert "<td data-label=\"Target\">Team budget</td>" in page
    assert "<td data-label=\"Target\">Budget of tom</td>" in page
    assert "<dd>team</dd>" not in page and ">team</td>" not in page


def test_a_member_called_team_has_a_budget_of_their_own(owner_client, team, owner):
    called_team = make_user("team", team, Role.MEMBER)
    budgets.set_budget(team, owner, Membership.objects.get(user=called_team), Decimal(5))
    page = audit_page(owner_client).content.decode()
    assert "Budget of team</td>" in page and "Team budget</td>" not in page


def test_team_budget_changes_logged_before_whose_budget_was_recorded_are_named_too(owner_client, team, owner):
    audit.record(team, owner, Action.BUDGET_CHANGED, "team", member="team", **{"from": None, "to": "100"})
    page = audit_page(owner_client).content.decode()
    assert "Team budget</td>" in page and "<dt>Member</dt>" not in page


def test_details_are_named_in_the_readers_language(owner_client, team, owner):
    audit.record(team, owner, Action.INVITATION_CREATED, "Jane", role="viewer")
    audit.record(team, owner, Action.UPSTREAM_CHANGED, api_base_url="https://api.example", files_base_url="")
    page = owner_client.get(reverse("teams:audit"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "<dt>역할</dt> <dd>뷰어</dd>" in page
    assert "<dt>API 기본 URL</dt>" in page


def test_the_newest_change_comes_first(owner_client, team, owner):
    audit.record(team, owner, Action.KEY_SET)
    later = audit.record(team, owner, Action.BUDGET_CHANGED)
    AuditEvent.objects.filter(pk=later.pk).update(created_at=timezone.now() + timedelta(minutes=1))
    page = audit_page(owner_client).content.decode()
    assert page.index("Budget changed</td>") < page.index("API key set</td>")


def test_another_teams_changes_are_never_shown(owner_client, other_team, outsider):
    audit.record(other_team, outsider, Action.KEY_REMOVED, "rival secret plans")
    page = audit_page(owner_client).content.decode()
    assert "rival secret plans" not in page and "oscar" not in page
    assert "No changes recorded yet." in page


def test_filtering_by_action_keeps_only_that_kind_and_stays_in_the_url(owner_client, team, owner):
    audit.record(team, owner, Action.KEY_SET, "key one")
    audit.record(team, owner, Action.MEMBER_REMOVED, "tom")
    page = audit_page(owner_client, action="member.removed").content.decode()
    assert "<td data-label=\"Target\">tom</td>" in page and "key one" not in page
    assert '<option value="member.removed" selected>Member removed</option>' in page


def test_an_unknown_filter_shows_everything(owner_client, team, owner):
    audit.record(team, owner, Action.KEY_SET, "key one")
    page = audit_page(owner_client, action="nonsense").content.decode()
    assert "key one" in page


def test_fifty_changes_a_page_and_the_filter_is_kept_when_paging(owner_client, team, owner):
    for number in range(60):
        audit.record(team, owner, Action.BUDGET_CHANGED, f"change {number:02d}")
    first = audit_page(owner_client, action="budget.changed").content.decode()
    assert first.count("Budget changed</td>") == 50
    assert "Page 1 of 2" in first
    assert 'href="?action=budget.changed&amp;page=2"' in first
    second = audit_page(owner_client, action="budget.changed", page=2).content.decode()
    assert second.count("Budget changed</td>") == 10


def invitation_token(response):
    return response.content.decode().split("/invitations/")[1].split('"')[0]


def test_team_changes_are_recorded_with_who_and_what(owner_client, team, owner, teammate):
    token = invitation_token(owner_client.post(reverse("teams:invite"), {"role": "viewer", "note": "Jane"}))
    newcomer = Client()
    page = newcomer.get(reverse("teams:accept-invitation", args=[token]), follow=True)
    newcomer.post(page.request["PATH_INFO"], {"username": "jane", "password1": PASSWORD, "password2": PASSWORD})
    jane = Membership.objects.get(user__username="jane")
    owner_client.post(reverse("teams:change-role", args=[jane.pk]), {"role": "member"})
    owner_client.post(reverse("teams:remove-member", args=[jane.pk]))
    owner_client.post(reverse("teams:invite"), {"role": "admin"})
    owner_client.post(reverse("teams:revoke-invitation", args=[Invitation.objects.pending().get().pk]))
    tom = Client()
    tom.force_login(teammate)
    tom.post(reverse("teams:leave"))

    recorded = AuditEvent.objects.filter(team=team).order_by("id").values_list("action", "actor_name", "target", "details")
    assert list(recorded) == [
        ("invitation.created", "olivia", "Jane", {"role": "viewer"}),
        ("invitation.accepted", "jane", "jane", {"role": "viewer"}),
        ("member.role", "olivia", "jane", {"from": "viewer", "to": "member"}),
        ("member.removed", "olivia", "jane", {"role": "member"}),
        ("invitation.created", "olivia", "", {"role": "admin"}),
        ("invitation.revoked", "olivia", "", {"role": "admin"}),
        ("member.left", "tom", "tom", {"role": "member"}),
    ]


def test_an_invitation_token_never_reaches_the_audit_page_or_the_logs(owner_client, team, caplog):
    caplog.set_level(logging.DEBUG)
    token = invitation_token(owner_client.post(reverse("teams:invite"), {"role": "viewer", "note": "Jane"}))
    link = reverse("teams:accept-invitation", args=[token])
    newcomer = Client()
    page = newcomer.get(link, follow=True)
    signup = {"username": "jane", "password1": PASSWORD, "password2": PASSWORD}
    assert newcomer.post(page.request["PATH_INFO"], signup).status_code == 302
    assert Client().get(link).status_code == 410

    page = audit_page(owner_client).content.decode()
    assert "Invitation created" in page and "Invitation accepted" in page
    assert token not in page
    assert "Gone: /invitations/" in caplog.text  # the refusal is still logged, without the token
    assert token not in caplog.text
    for event in AuditEvent.objects.all():
        assert token not in f"{event.target} {event.details}"
