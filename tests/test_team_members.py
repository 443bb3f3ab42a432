"""The team page: members and roles, invitation links, leaving, switching and new teams."""

import logging
import re
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.signals import pre_save
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from playground.teams import invitations, memberships, roles
from playground.teams.invitations import INVITER_LOST_RIGHT
from playground.teams.models import AuditEvent, Invitation, Membership, Team, hash_token

from .conftest import PASSWORD, make_user, signed_in

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HTTP_HX_REQUEST": "true"}


def invite(client, role="member", note="", **headers):
    return client.post(reverse("teams:invite"), {"role": role, "note": note}, **headers)


def link_in(response):
    page = response.content.decode()
    return page.split('id="invitation-link"')[1].split('value="')[1].split('"')[0]


def token_of(link):
    return link.rstrip("/").rsplit("/", 1)[1]


def issue(team, by, role=Role.MEMBER, note=""):
    _invitation, token = Invitation.issue(team, by, role, note)
    return token


def accept_url(token):
    return reverse("teams:accept-invitation", args=[token])


def opened(client, token):
    """Open an invitation link as a browser does, following it to where it leads."""
    return client.get(accept_url(token), follow=True)


def accept(client, token, data=None):
    """Open the link, then press the button (or send the sign-up form) where it led."""
    page = opened(client, token)
    return client.post(page.request["PATH_INFO"], data or {})


def role_of(user, team):
    return Membership.objects.get(user=user, team=team).role


# -- the page --------------------------------------------------------------------------------------


def test_every_member_sees_who_is_in_the_team_with_role_and_join_date(client, owner, teammate):
    client.force_login(teammate)
    page = client.get(reverse("teams:members")).content.decode()
    assert "<h1>Acme studio</h1>" in page
    assert "olivia" in page and "tom" in page
    assert "Owner" in page and "Member" in page
    assert "<time datetime=" in page
    assert "Leave team" in page and reverse("teams:create") in page


def test_a_member_sees_no_controls_to_manage_the_team(client, owner, teammate):
    client.force_login(teammate)
    page = client.get(reverse("teams:members")).content.decode()
    assert reverse("teams:invite") not in page
    assert reverse("teams:change-role", args=[teammate.memberships.get().pk]) not in page
    assert "Remove" not in page and "Pending invitations" not in page


def test_an_owner_sees_role_controls_removal_the_invite_form_and_pending_invitations(owner_client, team, owner, teammate):
    issue(team, owner, note="Jane from sales")
    page = owner_client.get(reverse("teams:members")).content.decode()
    tom = teammate.memberships.get()
    assert f'action="{reverse("teams:change-role", args=[tom.pk])}"' in page
    assert f'<label for="role-{tom.pk}" class="visually-hidden">Role of tom</label>' in page
    assert f'action="{reverse("teams:remove-member", args=[tom.pk])}"' in page
    assert f'action="{reverse("teams:invite")}"' in page
    assert "Jane from sales" in page and "Revoke" in page


def test_each_control_is_named_by_one_whole_sentence(owner_client, team, owner, teammate):
    issue(team, owner, note="Jane")
    issue(team, owner, Role.VIEWER)
    page = owner_client.get(reverse("teams:members")).content.decode()
    assert 'aria-label="Change role of tom"' in page
    assert 'aria-label="Remove tom from the team"' in page
    assert 'aria-label="Revoke the invitation for Jane"' in page
    assert 'aria-label="Revoke the Viewer invitation"' in page
    assert "visually-hidden\"> " not in page  # no sentence completed by a hidden fragment


def test_the_page_asks_a_signed_out_visitor_to_sign_in(client):
    response = client.get(reverse("teams:members"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_someone_in_no_team_gets_404(client):
    client.force_login(make_user("nomad", None))
    assert client.get(reverse("teams:members")).status_code == 404


# -- invitations ----------------------------------------------------------------------------------


def test_an_invitation_link_is_shown_once_and_only_its_hash_is_kept(owner_client, team):
    response = invite(owner_client, "viewer", "Jane")
    assert response.status_code == 200
    link = link_in(response)
    assert link.startswith("http://testserver/invitations/")
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hash_token(token_of(link))
    assert (invitation.team, invitation.role, invitation.note) == (team, "viewer", "Jane")
    assert invitation.expires_at.date() == (timezone.now() + timedelta(days=7)).date()
    assert token_of(link) not in owner_client.get(reverse("teams:members")).content.decode()


def test_an_htmx_invitation_answers_with_the_invitations_panel_only(owner_client):
    response = invite(owner_client, "member", "Kim", **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="invitations"') and "<html" not in page
    assert link_in(response).startswith("http://testserver/invitations/") and "Kim" in page


def test_an_invitation_with_a_too_long_note_is_refused_next_to_the_field(owner_client):
    response = invite(owner_client, "member", "x" * 201)
    assert response.status_code == 400
    assert 'id="note-error"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_admin_can_invite_an_admin_but_not_an_owner(client, team):
    client.force_login(make_user("ada", team, Role.ADMIN))
    assert invite(client, "admin").status_code == 200
    assert invite(client, "owner").status_code == 403
    assert list(Invitation.objects.values_list("role", flat=True)) == ["admin"]


def test_an_admin_is_not_offered_the_owner_role(client, team, teammate):
    client.force_login(make_user("ada", team, Role.ADMIN))
    page = client.get(reverse("teams:members")).content.decode()
    assert 'value="admin"' in page and 'value="owner"' not in page


def test_an_owner_can_invite_an_owner(owner_client):
    assert invite(owner_client, "owner").status_code == 200
    assert Invitation.objects.get().role == "owner"


def test_revoking_an_invitation_kills_its_link(owner_client, team, owner):
    token = issue(team, owner, note="Jane")
    newcomer = signed_in(make_user("nina", None))
    page = opened(newcomer, token)  # opened, not yet accepted
    invitation = Invitation.objects.get()
    response = owner_client.post(reverse("teams:revoke-invitation", args=[invitation.pk]), follow=True)
    assert "The invitation was revoked" in response.content.decode()
    assert "Jane" not in response.content.decode()  # no longer pending
    refused = newcomer.post(page.request["PATH_INFO"])
    assert refused.status_code == 410 and "withdrawn" in refused.content.decode()
    assert newcomer.get(accept_url(token)).status_code == 410
    assert not Membership.objects.filter(user__username="nina").exists()


# -- accepting --------------------------------------------------------------------------------------


def test_a_signed_in_person_sees_whom_they_join_and_as_what(team, owner):
    token = issue(team, owner, Role.VIEWER)
    page = opened(signed_in(make_user("nina", None)), token).content.decode()
    assert "Join Acme studio as Viewer" in page
    assert not Membership.objects.filter(user__username="nina").exists()  # looking is not joining


def test_an_invitation_link_works_once(team, owner):
    token = issue(team, owner, Role.VIEWER)
    nina, nick = make_user("nina", None), make_user("nick", None)

    joined = accept(signed_in(nina), token)
    assert joined.status_code == 302 and joined["Location"] == reverse("studio:playground")
    assert role_of(nina, team) == "viewer"

    second = signed_in(nick).get(accept_url(token))
    assert second.status_code == 410
    assert "already been used" in second.content.decode()
    assert not Membership.objects.filter(user=nick).exists()
    assert team.memberships.count() == 2


def test_joining_switches_to_the_new_team(team, owner, other_team, outsider):
    token = issue(team, owner)
    client = signed_in(outsider)  # owner of Rival inc
    accept(client, token)
    page = client.get(reverse("teams:members")).content.decode()
    assert "<h1>Acme studio</h1>" in page


def test_an_expired_link_is_refused_and_changes_nothing(team, owner):
    token = issue(team, owner)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    nina = make_user("nina", None)
    response = signed_in(nina).get(accept_url(token))
    assert response.status_code == 410 and "has expired" in response.content.decode()
    assert not Membership.objects.filter(user=nina).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_unknown_link_is_404(team, owner, client):
    issue(team, owner)
    response = client.get(accept_url("not-a-real-token"))
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_people_using_one_link_at_once_only_one_joins(team, owner, monkeypatch):
    """Both requests find the invitation pending; the conditional update lets exactly one claim it."""
    token = issue(team, owner)
    people = [make_user(name, None) for name in ("nina", "nick")]
    pending = Invitation.is_pending

    def slowly_pending(invitation):  # both have read "pending" before either claims
        answer = pending.fget(invitation)
        time.sleep(0.3)
        return answer

    monkeypatch.setattr(Invitation, "is_pending", property(slowly_pending))
    start = threading.Barrier(len(people))
    statuses = {}

    def join(person):
        client = signed_in(person)
        try:
            client.get(accept_url(token))
            start.wait()
            statuses[person.username] = client.post(reverse("teams:accept-pending-invitation")).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses.values()) == [302, 410]
    assert Membership.objects.filter(user__in=people).count() == 1
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1


def test_a_claim_loses_once_another_claim_has_won(team, owner):
    issue(team, owner)
    invitation = Invitation.objects.get()
    assert invitations.claim(invitation, make_user("nina", None)) is True
    assert invitations.claim(invitation, make_user("nick", None)) is False


def test_someone_already_in_the_team_is_told_so_and_keeps_their_role(team, owner, teammate):
    token = issue(team, owner, Role.ADMIN)
    client = signed_in(teammate)
    response = accept(client, token)
    assert "You are already in Acme studio" in response.content.decode()
    assert role_of(teammate, team) == "member"
    assert Invitation.objects.get().is_pending


def test_a_signed_out_visitor_is_offered_to_sign_in_or_sign_up(client, team, owner):
    token = issue(team, owner)
    page = opened(client, token).content.decode()
    assert "Join Acme studio as Member" in page
    assert f'href="{reverse("login")}?next=/invitations/accept"' in page
    assert 'action="/invitations/accept"' in page
    assert 'name="username"' in page and 'name="password1"' in page and 'name="password2"' in page
    assert token not in page


def test_an_invitation_link_leads_on_to_a_page_without_its_token(client, team, owner):
    token = issue(team, owner)
    response = client.get(accept_url(token))
    assert response.status_code == 302 and response["Location"] == reverse("teams:accept-pending-invitation")
    assert token not in response["Location"]


def test_signing_in_from_an_invitation_comes_back_to_it(client, team, owner):
    token = issue(team, owner)
    make_user("nina", None)
    opened(client, token)
    signed = client.post(
        f'{reverse("login")}?next={reverse("teams:accept-pending-invitation")}',
        {"username": "nina", "password": PASSWORD},
        follow=True,
    )
    page = signed.content.decode()
    assert "Join Acme studio as Member" in page and "You are signed in as nina." in page
    assert client.post(reverse("teams:accept-pending-invitation"))["Location"] == reverse("studio:playground")
    assert role_of(get_user_model().objects.get(username="nina"), team) == "member"


def test_an_invitation_token_never_reaches_the_logs(client, team, owner, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    token = issue(team, owner)
    page = opened(client, token)
    signup = {"username": "nina", "password1": PASSWORD, "password2": "other"}
    refused = client.post(page.request["PATH_INFO"], signup)
    assert refused.status_code == 200 and 'id="password2-error"' in refused.content.decode()
    assert client.put(accept_url(token)).status_code == 405
    assert client.delete(accept_url(token)).status_code == 405
    assert Client(enforce_csrf_checks=True).post(accept_url(token)).status_code == 405  # not a CSRF 403
    assert "Method Not Allowed: /invitations/..." in caplog.text  # still logged, without the token
    assert token not in caplog.text
    assert all(token not in record.getMessage() for record in caplog.records)
    assert Invitation.objects.get().is_pending


def test_signing_up_through_an_invitation_makes_the_account_joins_and_signs_in(client, team, owner):
    token = issue(team, owner, Role.VIEWER)
    response = accept(client, token, {"username": "nina", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("studio:playground")
    nina = get_user_model().objects.get(username="nina")
    assert nina.check_password(PASSWORD)
    assert role_of(nina, team) == "viewer"
    assert Invitation.objects.get().accepted_by == nina
    page = client.get(reverse("teams:members")).content.decode()
    assert "<h1>Acme studio</h1>" in page and "nina" in page


def test_a_failed_sign_up_makes_no_account_and_keeps_the_link(client, team, owner):
    token = issue(team, owner)
    response = accept(client, token, {"username": "nina", "password1": PASSWORD, "password2": "other"})
    assert response.status_code == 200
    assert 'id="password2-error"' in response.content.decode()
    assert not get_user_model().objects.filter(username="nina").exists()
    assert Invitation.objects.get().is_pending


def password_input(page, name):
    return re.search(rf'<input type="password" name="{name}"[^>]*>', page, re.S).group(0)


def test_a_weak_password_is_refused_under_the_password_not_the_confirmation(client, team, owner):
    token = issue(team, owner)
    response = accept(client, token, {"username": "nina", "password1": "abc", "password2": "abc"})
    page = response.content.decode()
    password_field = page.split('id="id_password1"')[1].split('id="id_password2"')[0]
    assert 'id="password1-error"' in password_field and "This password is too short." in password_field
    assert 'id="password2-error"' not in page
    assert 'aria-describedby="password1-error passwords-cleared password1-help"' in page


def test_after_a_refused_password_the_username_stays_and_the_page_says_to_type_both_again(client, team, owner):
    token = issue(team, owner)
    response = accept(client, token, {"username": "nina", "password1": PASSWORD, "password2": "other"})
    page = response.content.decode()
    assert 'id="password2-error"' in page and 'id="password1-error"' not in page
    assert 'value="nina"' in page
    assert "value=" not in password_input(page, "password1") and "value=" not in password_input(page, "password2")
    assert "type the password in both fields again" in page


def test_when_only_the_username_is_refused_the_passwords_are_kept_and_not_cached(client, team, owner):
    token = issue(team, owner)
    response = accept(client, token, {"username": "OLIVIA", "password1": PASSWORD, "password2": PASSWORD})
    page = response.content.decode()
    assert 'id="username-error"' in page and 'value="OLIVIA"' in page
    assert f'value="{PASSWORD}"' in password_input(page, "password1")
    assert f'value="{PASSWORD}"' in password_input(page, "password2")
    assert "type the password in both fields again" not in page
    assert "no-store" in response["Cache-Control"]
    assert not get_user_model().objects.filter(username="OLIVIA").exists()


def test_signing_up_with_a_link_used_meanwhile_makes_no_account(client, team, owner):
    token = issue(team, owner)
    page = opened(client, token)
    accept(signed_in(make_user("nina", None)), token)
    data = {"username": "nick", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(page.request["PATH_INFO"], data)
    assert response.status_code == 410 and "already been used" in response.content.decode()
    assert not get_user_model().objects.filter(username="nick").exists()


def test_joining_a_team_one_is_already_in_leaves_the_link_unused(team, owner, teammate):
    issue(team, owner, Role.ADMIN)
    with pytest.raises(invitations.AlreadyMember):
        invitations.join(Invitation.objects.get(), teammate)
    assert Invitation.objects.get().is_pending
    assert role_of(teammate, team) == "member"


def test_joining_at_once_through_two_links_tells_the_second_one_so(team, owner, monkeypatch):
    """The second request looked for a membership before the first had made it."""
    token = issue(team, owner, Role.VIEWER)
    nina = make_user("nina", None)
    client = signed_in(nina)
    page = opened(client, token)
    Membership.objects.create(team=team, user=nina, role=Role.MEMBER)  # the other link, a moment ago
    looked = memberships.membership_in
    answers = iter([None])
    monkeypatch.setattr(memberships, "membership_in", lambda *args: next(answers, None) or looked(*args))

    response = client.post(page.request["PATH_INFO"])

    assert response.status_code == 200 and "You are already in Acme studio" in response.content.decode()
    assert role_of(nina, team) == "member"
    assert Invitation.objects.get().is_pending


# -- roles ------------------------------------------------------------------------------------------


def change_role(client, membership, role):
    return client.post(reverse("teams:change-role", args=[membership.pk]), {"role": role})


def test_an_owner_makes_a_member_admin_and_the_page_says_so(owner_client, team, teammate):
    response = change_role(owner_client, teammate.memberships.get(), "admin")
    assert response.status_code == 302
    assert role_of(teammate, team) == "admin"
    assert "tom is now Admin." in owner_client.get(reverse("teams:members")).content.decode()
    event = AuditEvent.objects.get(action="member.role")
    assert (event.actor_name, event.target, event.details) == ("olivia", "tom", {"from": "member", "to": "admin"})


def test_an_owner_can_make_someone_owner(owner_client, team, teammate):
    change_role(owner_client, teammate.memberships.get(), "owner")
    assert role_of(teammate, team) == "owner"


def test_an_admin_cannot_make_someone_owner(client, team, teammate):
    client.force_login(make_user("ada", team, Role.ADMIN))
    assert change_role(client, teammate.memberships.get(), "owner").status_code == 403
    assert role_of(teammate, team) == "member"


def test_an_admin_cannot_change_or_remove_an_owner(client, team, owner):
    client.force_login(make_user("ada", team, Role.ADMIN))
    olivia = owner.memberships.get()
    assert change_role(client, olivia, "viewer").status_code == 403
    assert client.post(reverse("teams:remove-member", args=[olivia.pk])).status_code == 403
    assert role_of(owner, team) == "owner"


def test_an_admin_can_make_a_member_a_viewer(client, team, teammate):
    client.force_login(make_user("ada", team, Role.ADMIN))
    change_role(client, teammate.memberships.get(), "viewer")
    assert role_of(teammate, team) == "viewer"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_get_403_on_every_write(client, team, owner, teammate, role):
    client.force_login(make_user("val", team, role))
    issue(team, owner)
    invitation = Invitation.objects.get()
    tom = teammate.memberships.get()
    writes = [
        (reverse("teams:invite"), {"role": "member"}),
        (reverse("teams:revoke-invitation", args=[invitation.pk]), {}),
        (reverse("teams:change-role", args=[tom.pk]), {"role": "viewer"}),
        (reverse("teams:remove-member", args=[tom.pk]), {}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert Invitation.objects.count() == 1 and Invitation.objects.get().is_pending
    assert role_of(teammate, team) == "member"


def test_the_last_owner_cannot_step_down_and_the_page_says_why(owner_client, team, owner):
    olivia = owner.memberships.get()
    response = change_role(owner_client, olivia, "admin")
    assert response.status_code == 409
    page = response.content.decode()
    assert f'<p class="error" id="member-{olivia.pk}-error" role="alert">A team needs at least one owner.' in page
    assert role_of(owner, team) == "owner"


def test_the_last_owner_cannot_leave_and_the_page_says_why(owner_client, team, owner):
    response = owner_client.post(reverse("teams:leave"))
    assert response.status_code == 409
    assert '<p class="error" id="leave-help" role="alert">A team needs at least one owner.' in response.content.decode()
    assert role_of(owner, team) == "owner"


def test_the_last_owner_cannot_remove_themselves(owner_client, team, owner):
    response = owner_client.post(reverse("teams:remove-member", args=[owner.memberships.get().pk]))
    assert response.status_code == 409
    assert role_of(owner, team) == "owner"


def test_the_page_warns_the_only_owner_before_they_try_to_leave(owner_client):
    page = owner_client.get(reverse("teams:members")).content.decode()
    assert "You are the only owner." in page


def test_one_of_two_owners_can_step_down(owner_client, team, owner):
    make_user("paul", team, Role.OWNER)
    change_role(owner_client, owner.memberships.get(), "member")
    assert role_of(owner, team) == "member"


@pytest.mark.django_db(transaction=True)  # two requests in threads, each committing
def test_two_owners_demoting_each_other_at_once_leave_one_owner(team, monkeypatch):
    """Both count the owners before either writes, unless the owners' rows are locked."""
    from .races import racing

    olivia, paul = make_user("olivia", team, Role.OWNER), make_user("paul", team, Role.OWNER)

    def demote(actor, target):
        client, membership = signed_in(actor), target.memberships.get(team=team)
        return lambda: change_role(client, membership, "member").status_code

    statuses = racing([demote(olivia, paul), demote(paul, olivia)], Membership._meta.db_table, monkeypatch)

    # The second one's actor is no owner any more when its turn comes.
    assert sorted(statuses, key=str) == [302, 403], statuses
    assert team.memberships.filter(role="owner").count() == 1


@pytest.mark.parametrize("write", ["change-role", "remove-member"])
def test_an_admin_demoted_a_moment_ago_can_no_longer_manage(client, team, teammate, monkeypatch, write):
    """The request read "admin" before another request made them a member."""
    ada = make_user("ada", team, Role.ADMIN)
    counted = roles.locked_owner_count

    def demoted_meanwhile(team):
        Membership.objects.filter(user=ada).update(role=Role.MEMBER)
        return counted(team)

    monkeypatch.setattr(roles, "locked_owner_count", demoted_meanwhile)
    client.force_login(ada)
    tom = teammate.memberships.get()
    response = client.post(reverse(f"teams:{write}", args=[tom.pk]), {"role": "viewer"})
    assert response.status_code == 403
    assert role_of(teammate, team) == "member"


def test_an_admin_demoted_a_moment_ago_makes_no_invitation(client, team, monkeypatch):
    ada = make_user("ada", team, Role.ADMIN)
    locked = roles.locked_actor_and_target

    def demoted_meanwhile(actor, pk):
        Membership.objects.filter(user=ada).update(role=Role.MEMBER)
        return locked(actor, pk)

    monkeypatch.setattr(roles, "locked_actor_and_target", demoted_meanwhile)
    client.force_login(ada)
    response = client.post(reverse("teams:invite"), {"role": "member"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_admin_removed_a_moment_ago_gets_404(client, team, teammate, monkeypatch):
    ada = make_user("ada", team, Role.ADMIN)
    counted = roles.locked_owner_count

    def removed_meanwhile(team):
        Membership.objects.filter(user=ada).delete()
        return counted(team)

    monkeypatch.setattr(roles, "locked_owner_count", removed_meanwhile)
    client.force_login(ada)
    response = change_role(client, teammate.memberships.get(), "viewer")
    assert response.status_code == 404
    assert role_of(teammate, team) == "member"


# -- invitations of someone who may no longer invite ------------------------------------------------


def test_removing_an_admin_revokes_the_invitations_they_made(owner_client, team, owner):
    ada = make_user("ada", team, Role.ADMIN)
    token = issue(team, ada, Role.MEMBER, note="ada's friend")
    issue(team, owner, Role.MEMBER, note="olivia's friend")
    owner_client.post(reverse("teams:remove-member", args=[ada.memberships.get().pk]))

    assert list(Invitation.objects.pending().values_list("note", flat=True)) == ["olivia's friend"]
    event = AuditEvent.objects.get(action="invitation.revoked")
    assert (event.actor_name, event.target) == ("olivia", "ada's friend")
    assert event.details == {"role": "member", "reason": INVITER_LOST_RIGHT}
    comeback = Client().get(accept_url(token))  # ada, trying her own link
    assert comeback.status_code == 410 and "withdrawn" in comeback.content.decode()


def test_an_admin_who_leaves_takes_their_invitations_with_them(client, team, owner):
    ada = make_user("ada", team, Role.ADMIN)
    issue(team, ada)
    client.force_login(ada)
    client.post(reverse("teams:leave"))
    assert not Invitation.objects.pending().exists()
    assert AuditEvent.objects.get(action="invitation.revoked").actor_name == "ada"


def test_an_admin_made_member_loses_their_invitations(owner_client, team):
    ada = make_user("ada", team, Role.ADMIN)
    issue(team, ada, Role.VIEWER)
    change_role(owner_client, ada.memberships.get(), "member")
    assert not Invitation.objects.pending().exists()


def test_an_owner_made_admin_keeps_only_the_invitations_an_admin_may_give(owner_client, team):
    paul = make_user("paul", team, Role.OWNER)
    issue(team, paul, Role.OWNER, note="co-owner")
    issue(team, paul, Role.ADMIN, note="helper")
    change_role(owner_client, paul.memberships.get(), "admin")
    assert list(Invitation.objects.pending().values_list("note", flat=True)) == ["helper"]


def test_a_promotion_revokes_nothing(owner_client, team, teammate):
    ada = make_user("ada", team, Role.ADMIN)
    issue(team, ada)
    change_role(owner_client, ada.memberships.get(), "owner")
    assert Invitation.objects.pending().count() == 1


# -- removing and leaving ------------------------------------------------------------------------------


def test_an_owner_removes_a_member_who_then_cannot_see_the_team(owner_client, team, teammate):
    response = owner_client.post(reverse("teams:remove-member", args=[teammate.memberships.get().pk]), follow=True)
    assert "tom was removed from the team." in response.content.decode()
    assert not Membership.objects.filter(user=teammate).exists()
    event = AuditEvent.objects.get(action="member.removed")
    assert (event.target, event.details) == ("tom", {"role": "member"})
    assert signed_in(teammate).get(reverse("teams:members")).status_code == 404


def test_a_member_leaves_and_is_offered_to_create_a_team(client, team, owner, teammate):
    client.force_login(teammate)
    response = client.post(reverse("teams:leave"))
    assert response.status_code == 302 and response["Location"] == reverse("teams:create")
    assert not Membership.objects.filter(user=teammate).exists()
    assert AuditEvent.objects.get(action="member.left").actor_name == "tom"


def test_someone_in_another_team_too_goes_back_to_the_playground_after_leaving(client, team, other_team, owner):
    viewer = make_user("vic", team, Role.VIEWER)
    Membership.objects.create(team=other_team, user=viewer)
    client.force_login(viewer)
    response = client.post(reverse("teams:leave"))
    assert response["Location"] == reverse("studio:playground")
    assert "<h1>Rival inc</h1>" in client.get(reverse("teams:members")).content.decode()


# -- other teams -----------------------------------------------------------------------------------------


def test_an_outsider_gets_404_for_this_teams_members_and_invitations(client, team, owner, teammate, outsider):
    issue(team, owner)
    invitation = Invitation.objects.get()
    tom = teammate.memberships.get()
    client.force_login(outsider)  # an owner, but of Rival inc
    assert client.post(reverse("teams:change-role", args=[tom.pk]), {"role": "viewer"}).status_code == 404
    assert client.post(reverse("teams:remove-member", args=[tom.pk])).status_code == 404
    assert client.post(reverse("teams:revoke-invitation", args=[invitation.pk])).status_code == 404
    assert role_of(teammate, team) == "member" and Invitation.objects.get().is_pending
    assert "tom" not in client.get(reverse("teams:members")).content.decode()


# -- switching and new teams ----------------------------------------------------------------------------


def test_switching_to_a_team_you_are_not_in_is_404(owner_client, other_team):
    assert owner_client.post(reverse("teams:switch"), {"team": other_team.pk}).status_code == 404
    assert owner_client.post(reverse("teams:switch"), {"team": "x"}).status_code == 404


def test_switching_shows_the_other_teams_name(owner_client, owner, other_team):
    Membership.objects.create(team=other_team, user=owner)
    response = owner_client.post(reverse("teams:switch"), {"team": other_team.pk})
    assert response["Location"] == reverse("studio:playground")
    page = owner_client.get(reverse("teams:members")).content.decode()
    assert "<h1>Rival inc</h1>" in page


@pytest.mark.parametrize(
    "next_url, lands_on",
    [("/team/usage", "/team/usage"), ("https://evil.example/", "/"), ("//evil.example/", "/")],
)
def test_switching_stays_on_the_same_page_but_never_leaves_the_site(owner_client, owner, other_team, next_url, lands_on):
    Membership.objects.create(team=other_team, user=owner)
    response = owner_client.post(reverse("teams:switch"), {"team": other_team.pk, "next": next_url})
    assert response["Location"] == lands_on


def test_anyone_signed_in_can_create_a_team_and_owns_it(client, team):
    nina = make_user("nina", None)
    client.force_login(nina)
    assert 'name="name"' in client.get(reverse("teams:create")).content.decode()
    response = client.post(reverse("teams:create"), {"name": "Acme"})
    assert response["Location"] == reverse("studio:playground")
    created = Team.objects.get(name="Acme")
    assert created.slug == "acme-2"  # "acme" was taken
    assert role_of(nina, created) == "owner"
    assert AuditEvent.objects.get(team=created).action == "team.created"
    assert "<h1>Acme</h1>" in client.get(reverse("teams:members")).content.decode()


def test_a_name_taken_at_the_same_moment_gets_the_next_slug(client, monkeypatch):
    """Another request saves a team called "Acme" between our look at the slugs and our insert."""
    nina = make_user("nina", None)
    client.force_login(nina)

    def first_one_wins(sender, instance, **kwargs):
        pre_save.disconnect(first_one_wins, sender=Team)
        Team.objects.bulk_create([Team(name="Acme", slug=instance.slug)])

    pre_save.connect(first_one_wins, sender=Team)
    try:
        response = client.post(reverse("teams:create"), {"name": "Acme"})
    finally:
        pre_save.disconnect(first_one_wins, sender=Team)
    assert response["Location"] == reverse("studio:playground")
    assert nina.memberships.get().team.slug == "acme-2"


def test_someone_with_no_team_left_is_sent_from_the_playground_to_make_one(client, team, owner, teammate):
    client.force_login(teammate)
    client.post(reverse("teams:leave"))
    response = client.get(reverse("studio:playground"))
    assert response.status_code == 302 and response["Location"] == reverse("teams:create")
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'name="name"' in page.content.decode()


def test_signing_in_without_a_team_leads_to_making_one(client):
    make_user("nomad", None)
    response = client.post(reverse("login"), {"username": "nomad", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("teams:create")
    assert "Create a new team" in response.content.decode()


def test_a_team_needs_a_name(owner_client):
    response = owner_client.post(reverse("teams:create"), {"name": " "})
    assert response.status_code == 400 and 'id="name-error"' in response.content.decode()
    assert Team.objects.count() == 1
