"""Which roles a person may give, and taking back the invitations they may no longer give.

Shared by the team page and the operators' admin, which change roles alike.
"""

from . import audit
from .models import Invitation, Membership

Role = Membership.Role
# The audit log's reason for revoking the invitations of someone removed or demoted.
INVITER_LOST_RIGHT = "inviter-lost-right"


def assignable_roles(actor):
    """The roles `actor` (a membership, or None) may give: owners any, admins any but owner, others none."""
    if actor is None or not actor.can_manage:
        return []
    if actor.is_owner:
        return list(Role)
    return [Role.ADMIN, Role.MEMBER, Role.VIEWER]


def revoke_invitations_beyond(team, creator, membership, actor):
    """Revoke the pending invitations `creator` made that their role now (`membership`, None once
    out of the team) would not let them make: a removed admin cannot come back through their own link.
    """
    stale = Invitation.objects.pending().select_for_update().filter(team=team, created_by=creator)
    for invitation in stale.exclude(role__in=assignable_roles(membership)):
        invitation.revoke()
        details = {"role": invitation.role, "reason": INVITER_LOST_RIGHT}
        audit.record(team, actor, audit.Action.INVITATION_REVOKED, invitation.note, **details)
