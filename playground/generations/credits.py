"""Credits: what a generation reserves against the team's budgets, and what it is charged.

A generation reserves `n × CREDITS_PER_IMAGE` when it is created. While it runs, that
reservation counts against the month's budgets; when it ends it becomes the charge for
the images the service actually produced, at the service's own price where it gave one.
The month's figures are read from the running totals (totals.py), kept in step with both.
"""

from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from playground.amounts import plain
from playground.teams.models import Membership, Team

from .models import CreditTotal

PLACES = Decimal("0.0001")


class BudgetExceeded(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def estimate(n):
    return (Decimal(str(settings.CREDITS_PER_IMAGE)) * n).quantize(PLACES)


def month_start(moment=None):
    """The first instant of the month `moment` falls in, in the deployment's time zone."""
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent(month_totals):
    """Credits used by the generations these totals count (see `this_month`): the charge of
    finished ones, the reservation of the rest."""
    total = month_totals.aggregate(total=Sum(F("charged") + F("reserved")))["total"]
    return (total or Decimal(0)).quantize(PLACES)


def this_month(team, user=None, token=None):
    """The running totals (see `totals`) of the team's generations this month: a few rows per
    member and day, however many generations there are. Narrowed to a member's, or a token's."""
    found = CreditTotal.objects.filter(team=team, day__gte=month_start().date())
    if token:
        found = found.filter(token=token)
    return found.filter(user=user) if user else found


def spent_per_token(team):
    """What each personal token's generations used this month (counted as `spent` counts), by token id."""
    per_token = (
        this_month(team)
        .filter(token__isnull=False)
        .order_by()
        .values("token")
        .annotate(total=Sum(F("charged") + F("reserved")))
    )
    return {row["token"]: row["total"].quantize(PLACES) for row in per_token}


def member_budget(team, user):
    return Membership.objects.filter(team=team, user=user).values_list("monthly_budget", flat=True).first()


def budgets_left(team, user, token=None):
    """For each monthly budget that is set, the team's first, then the member's, then the
    personal token's cap: the budget, what remains of it this month (below 0 once overspent)
    and what is left to show (never below 0)."""
    found = {}
    limits = [
        ("team", team.monthly_budget, this_month(team)),
        ("member", member_budget(team, user), this_month(team, user)),
    ]
    if token is not None:
        limits.append(("token", token.monthly_cap, this_month(team, token=token)))
    for whose, budget, generations in limits:
        if budget is not None:
            remaining = budget - spent(generations)
            found[whose] = {"budget": budget, "remaining": remaining, "left": max(remaining, Decimal(0))}
    return found


def reserve(team, user, n, token=None):
    """The credits to reserve for n images; BudgetExceeded when a monthly budget (or the
    personal `token`'s monthly cap) can't cover them.

    Call inside the transaction that creates the generation. The team row is locked
    first, so two requests against the last credits are served one after the other:
    PostgreSQL waits on the row lock, and SQLite's IMMEDIATE transactions already
    serialize writers.
    """
    amount = estimate(n)
    team = Team.objects.select_for_update().get(pk=team.pk)
    require_covered(team, user, amount, token=token)
    return amount


def require_covered(team, user, amount, token=None, refusals=None):
    """BudgetExceeded, in the words of `refusals` (whose budget → sentence), unless every
    monthly budget that is set can cover `amount` more credits."""
    for whose, found in budgets_left(team, user, token).items():
        if amount > found["remaining"]:
            sentence = (refusals or REFUSALS)[whose]
            raise BudgetExceeded(refusal(sentence, amount, found["left"], found["budget"], name=token and token.name))


TEAM_REFUSAL = _(
    "This needs %(amount)s credits, but the team's monthly budget has %(left)s of %(budget)s credits left. "
    "Choose fewer images, or ask an owner to raise the budget."
)
MEMBER_REFUSAL = _(
    "This needs %(amount)s credits, but your monthly budget has %(left)s of %(budget)s credits left. "
    "Choose fewer images, or ask an owner to raise your budget."
)
TOKEN_REFUSAL = _(
    "This needs %(amount)s credits, but the monthly cap of the token “%(name)s” has %(left)s of %(budget)s "
    "credits left. Choose fewer images, or raise the token's cap on its page."
)
REFUSALS = {"team": TEAM_REFUSAL, "member": MEMBER_REFUSAL, "token": TOKEN_REFUSAL}


def refusal(message, amount, left, budget, name=None):
    return message % {"amount": plain(amount), "left": plain(left), "budget": plain(budget), "name": name}


def charge(generation):
    """What a finished generation costs: what the service said it charged (`usage.credits_used`
    on the finished task, recorded by the poll that saw it), else the images it produced at
    its price per image.

    Nothing when the service produced nothing (a refused or failed task is not billed).
    """
    if generation.credits_charged is not None:
        return Decimal(generation.credits_charged).quantize(PLACES)
    produced = len(generation.result_urls) if generation.upstream_completed_at else 0
    if not produced:
        return Decimal(0)
    reserved = generation.credits_reserved or generation.credits_estimated or estimate(generation.n)
    return (Decimal(reserved) / generation.n * produced).quantize(PLACES)
