"""The team's audit log: who changed what, and when."""

from playground.amounts import plain

from .models import AuditEvent

Action = AuditEvent.Action
TEAM_BUDGET, MEMBER_BUDGET = "team", "member"


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
    """Log a budget change: the team's (membership None) or a member's. The admin logs them so too.

    `budget` says whose it is, so a member whose name happens to be "team" is never taken
    for the team's own budget."""
    amounts = {"from": credits_or_none(old), "to": credits_or_none(new)}
    if membership is None:
        record(team, actor, Action.BUDGET_CHANGED, budget=TEAM_BUDGET, **amounts)
    else:
        name = membership.user.get_username()
        record(team, actor, Action.BUDGET_CHANGED, target=name, budget=MEMBER_BUDGET, member=name, **amounts)


def is_team_budget(event):
    """Whether a budget change was to the team's budget. Entries made before `budget` was
    recorded named the team's budget as the member "team", their target "team" too."""
    whose = event.details.get("budget")
    if whose:
        return whose == TEAM_BUDGET
    return event.details.get("member") == "team" and event.target == "team"


def credits_or_none(amount):
    return None if amount is None else plain(amount)
