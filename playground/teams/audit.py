"""The team's audit log: who changed what, and when."""

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
