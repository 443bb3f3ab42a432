"""The team's and its members' monthly budgets: setting them, each change in the audit log.

(What a generation may spend against them is `generations.credits`' concern.)
The owners' budgets page and the operators' admin call these alike.
"""

from django.db import transaction

from . import audit


@transaction.atomic
def set_budget(team, by, membership, budget):
    """Set the team's monthly budget (`membership` None) or a member's; None means no limit."""
    owner = team if membership is None else membership
    old, owner.monthly_budget = owner.monthly_budget, budget
    owner.save(update_fields=["monthly_budget"])
    audit.budget_changed(team, by, membership, old, budget)


@transaction.atomic
def set_budgets(team, by, budgets):
    """Set several budgets, [(membership or None for the team, budget)]: all of them or none."""
    for membership, budget in budgets:
        set_budget(team, by, membership, budget)
