"""Invitation links: issuing and revoking them, joining a team through one, and taking back
the invitations their maker may no longer give.

Each operation logs its audit event. The team page, the invitation pages and the operators'
admin call these alike.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import audit, roles
from .models import Invitation, Membership

Action = audit.Action
# The audit log's reason for revoking the invitations of someone removed or demoted.
INVITER_LOST_RIGHT = "inviter-lost-right"


@transaction.atomic
def issue(actor, role, note=""):
    """A new invitation from `actor` (a membership): (the actor as they are now, the invitation, its token).

    The token exists only here: the invitation keeps its hash.
    """
    # As the role is now: a demotion or removal a moment ago also revoked this person's
    # pending links, and must not be outrun by a new one.
    actor, _same = roles.locked_actor_and_target(actor, actor.pk)
    if role not in roles.assignable_roles(actor):
        raise PermissionDenied  # an admin asking for an owner: the page never offers it
    invitation, token = Invitation.issue(actor.team, actor.user, role, note)
    audit.record(actor.team, actor.user, Action.INVITATION_CREATED, invitation.note, role=invitation.role)
    return actor, invitation, token


@transaction.atomic
def revoke(team, pk, by):
    """Revoke the team's invitation `pk` if it is still pending (Invitation.DoesNotExist when
    the team has none such)."""
    invitation = Invitation.objects.select_for_update().get(pk=pk, team=team)
    if invitation.is_pending:
        invitation.revoke()
        audit.record(team, by, Action.INVITATION_REVOKED, invitation.note, role=invitation.role)
    return invitation


def revoke_invitations_beyond(team, creator, membership, actor):
    """Revoke the pending invitations `creator` made that their role now (`membership`, None once
    out of the team) would not let them make: a removed admin cannot come back through their own link.
    """
    stale = Invitation.objects.pending().select_for_update().filter(team=team, created_by=creator)
    for invitation in stale.exclude(role__in=roles.assignable_roles(membership)):
        invitation.revoke()
        details = {"role": invitation.role, "reason": INVITER_LOST_RIGHT}
        audit.record(team, actor, Action.INVITATION_REVOKED, invitation.note, **details)


class InvitationTaken(Exception):
    """Someone else used, or an owner revoked, the link a moment ago."""


class AlreadyMember(Exception):
    """The person joined the team a moment ago, through another link."""


def claim(invitation, user):
    """Mark the invitation used by `user`; a conditional UPDATE, so only one claim can win."""
    pending = Invitation.objects.pending().filter(pk=invitation.pk)
    return pending.update(accepted_at=timezone.now(), accepted_by=user) == 1


@transaction.atomic
def join(invitation, user):
    """1. claim the link, 2. add the membership, 3. log it; all or nothing.

    InvitationTaken when the link was used or revoked meanwhile, AlreadyMember when the
    person joined through another link meanwhile.
    """
    try:
        with transaction.atomic():  # a savepoint: when the membership exists, the claim is undone too
            if not claim(invitation, user):
                raise InvitationTaken
            membership = Membership.objects.create(team=invitation.team, user=user, role=invitation.role)
    except IntegrityError:
        raise AlreadyMember from None
    audit.record(invitation.team, user, Action.INVITATION_ACCEPTED, user.get_username(), role=invitation.role)
    return membership


@transaction.atomic
def sign_up_and_join(invitation, signup_form):
    """The account a valid `signup_form` (Django's UserCreationForm) makes, and its
    membership through the invitation: no account without the membership it was made for."""
    return join(invitation, signup_form.save())
