"""The team's audit log: who changed what, and when."""

from playground.amounts import plain

from .models import AuditEvent

Action = AuditEvent.Action


def record(team, actor, action, target="", **details):
    """Log one change. `details` says what changed, and must never hold a secret."""
    return AuditEvent.objects.create(
        team=team,
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        action=action,
        target=str(target)[:200],
        details=details,
    )


def budget_changed(team, actor, membership, old, new):
    """Log a budget change: the team's (membership None) or a member's. The admin logs them so too."""
    who = "team" if membership is None else membership.user.get_username()
    details = {"member": who, "from": credits_or_none(old), "to": credits_or_none(new)}
    record(team, actor, Action.BUDGET_CHANGED, target=who, **details)


def credits_or_none(amount):
    return None if amount is None else plain(amount)
