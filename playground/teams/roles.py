"""Who may do what to whom in a team, decided on the roles as they are now.

A request reads the actor's role before its transaction; another request may have
demoted or removed them since. The operations that change a team therefore lock the rows
they decide on (`locked_*`) and decide again.
"""

from django.core.exceptions import PermissionDenied

from .models import Membership

Role = Membership.Role


class NotInTeam(Exception):
    """The actor or the member they act on is no longer in the team (a page answers 404)."""


def may_manage(actor, target):
    """Owners manage everyone; admins manage everyone but owners."""
    return actor.can_manage and (actor.is_owner or not target.is_owner)


def assignable_roles(actor):
    """The roles `actor` (a membership, or None) may give: owners any, admins any but owner, others none."""
    if actor is None or not actor.can_manage:
        return []
    if actor.is_owner:
        return list(Role)
    return [Role.ADMIN, Role.MEMBER, Role.VIEWER]


def locked_owner_count(team):
    """Owners of `team`, their rows locked until the transaction ends.

    Two owners demoting each other at once must not leave the team with none; on SQLite
    the IMMEDIATE transaction mode already serializes writers, elsewhere the row locks do.
    """
    owners = Membership.objects.select_for_update().filter(team=team, role=Role.OWNER).order_by("pk")
    return len(owners.values_list("pk"))


def locked_actor_and_target(actor, pk):
    """The actor's and the target's memberships as they are now, locked (in pk order: no deadlock).

    NotInTeam when either is no longer in the team, PermissionDenied when the actor may no
    longer manage anyone.
    """
    rows = Membership.objects.select_for_update(of=("self",)).select_related("user", "team")
    found = {row.pk: row for row in rows.filter(team=actor.team, pk__in=[actor.pk, pk]).order_by("pk")}
    actor = found.get(actor.pk)
    if actor is None:
        raise NotInTeam
    if not actor.can_manage:
        raise PermissionDenied
    if pk not in found:
        raise NotInTeam
    return actor, found[pk]


def may_hold_tokens(membership):
    """Owners, admins and members make personal tokens for themselves; viewers don't."""
    return membership.can_generate


def sees_every_token(membership):
    """Owners and admins see (and revoke) every personal token of the team; others only their own."""
    return membership.can_manage
