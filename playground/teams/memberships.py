"""Who is in a team, with which role: starting a team, changing a role, removing a member, leaving.

Each operation decides on the rows as they are now (locked, see `roles`), writes, and logs
its audit event. The team page and the operators' admin call these alike; the admin's
operators are no members, so it calls the unchecked `add_member`, `set_role` and `remove`.
"""

from itertools import count

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from . import audit, roles, tokens
from .invitations import revoke_invitations_beyond
from .models import Membership, Team

Role = Membership.Role
Action = audit.Action

LAST_OWNER = gettext_lazy(
    "A team needs at least one owner. Make someone else an owner first."
)


class LastOwner(Exception):
    """The change would leave the team without an owner; nothing was changed."""

    message = LAST_OWNER


def membership_in(team, user):
    return Membership.objects.filter(team=team, user=user).first()


def slugs_for(name):
    base = slugify(name)[:40] or "team"
    yield base
    for number in count(2):
        yield f"{base}-{number}"


def new_team(name):
    """A team with the first free slug of its name. Call inside a transaction."""
    for slug in slugs_for(name):
        if Team.objects.filter(slug=slug).exists():
            continue
        try:
            with transaction.atomic():  # a savepoint: a team made at the same moment may take the slug first
                return Team.objects.create(name=name, slug=slug)
        except IntegrityError:
            continue


@transaction.atomic
def create_team(name, user):
    """A new team, owned by `user`: returns their membership."""
    team = new_team(name)
    membership = Membership.objects.create(team=team, user=user, role=Role.OWNER)
    audit.record(team, user, Action.TEAM_CREATED, team.name)
    return membership


@transaction.atomic
def add_member(team, user, role, by, monthly_budget=None):
    """Put `user` in the team with `role`, as an operator (`by`) may; logged. The team pages
    add people through invitations (see `invitations.join`)."""
    membership = Membership.objects.create(team=team, user=user, role=role, monthly_budget=monthly_budget)
    audit.record(team, by, Action.MEMBER_ADDED, user.get_username(), role=role)
    return membership


@transaction.atomic
def change_role(actor, pk, role):
    """Give the team's member `pk` the role `role`, as `actor` (a membership) may.

    Returns the target's membership, or None when it had that role already.
    """
    owners = roles.locked_owner_count(actor.team)
    actor, target = roles.locked_actor_and_target(actor, pk)
    if not roles.may_manage(actor, target) or role not in roles.assignable_roles(actor):
        raise PermissionDenied
    if target.role == role:
        return None
    if target.is_owner and owners == 1:
        raise LastOwner
    set_role(target, role, actor.user)
    return target


def set_role(membership, role, by):
    """Change the role, log it, and take back the invitations (and, for a viewer, the tokens) the new role may not give."""
    previous, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    name = membership.user.get_username()
    audit.record(membership.team, by, Action.ROLE_CHANGED, name, **{"from": previous, "to": role})
    revoke_invitations_beyond(membership.team, membership.user, membership, by)
    if not membership.can_generate:
        tokens.revoke_all_of(membership, by, reason=tokens.MADE_VIEWER)


@transaction.atomic
def remove_member(actor, pk):
    """Remove the team's member `pk`, as `actor` (a membership) may. Returns the removed membership."""
    owners = roles.locked_owner_count(actor.team)
    actor, target = roles.locked_actor_and_target(actor, pk)
    if not roles.may_manage(actor, target):
        raise PermissionDenied
    if target.is_owner and owners == 1:
        raise LastOwner
    remove(target, actor.user)
    return target


def remove(membership, by):
    """Remove the membership, log it, and take back the invitations its person made and their tokens."""
    team, user = membership.team, membership.user
    membership.delete()
    audit.record(team, by, Action.MEMBER_REMOVED, user.get_username(), role=membership.role)
    revoke_invitations_beyond(team, user, None, by)
    tokens.revoke_all_of(membership, by)


@transaction.atomic
def leave(membership):
    """The member leaves the team; the last owner may not."""
    owners = roles.locked_owner_count(membership.team)
    membership = Membership.objects.select_related("team", "user").filter(pk=membership.pk).first()
    if membership is None:  # removed a moment ago
        raise roles.NotInTeam
    if membership.is_owner and owners == 1:
        raise LastOwner
    Membership.objects.filter(pk=membership.pk).delete()
    user = membership.user
    audit.record(membership.team, user, Action.MEMBER_LEFT, user.get_username(), role=membership.role)
    revoke_invitations_beyond(membership.team, user, None, user)
    tokens.revoke_all_of(membership, user)
