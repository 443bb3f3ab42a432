"""The running credit totals agree with the generations they count, through a realistic month:
reservations, a charge lower than the reservation, a failure that costs nothing, work through
a personal token, two members, a generation that runs over the month's end, a deletion, and
an account and a token deleted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.db.models.functions import Coalesce

from playground.generations import credits, lifecycle, operations, totals
from playground.generations.models import CreditTotal, Generation, Status
from playground.generations.usage import Month, month_usage
from playground.teams import tokens
from playground.teams.models import Membership

from .conftest import drive, make_generation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def summed_from_rows(team, user=None, token=None):
    """What the budgets summed from the month's rows before the totals existed."""
    rows = Generation.objects.filter(team=team, created_at__gte=credits.month_start())
    rows = rows.filter(token=token) if token else rows
    rows = rows.filter(created_by=user) if user else rows
    total = rows.aggregate(total=Sum(Coalesce("credits_charged", "credits_estimated")))["total"]
    return (total or Decimal(0)).quantize(Decimal("0.0001"))


def assert_totals_agree(team):
    assert totals.recount(team) == {}


def generate(team, user, prompt, n=1, token=None):
    return lifecycle.create(team, user, prompt=prompt, size="1:1", n=n, token=token)


def made_at(monkeypatch, moment):
    """Generations created from now on are made at `moment` (as if the clock said so)."""
    monkeypatch.setattr(Generation._meta.get_field("created_at"), "_get_default", lambda: moment)


def test_the_totals_agree_with_the_rows_through_a_month_of_mixed_work(
    team, owner, teammate, other_team, sandbox_faults, settings, monkeypatch
):
    settings.CREDITS_PER_IMAGE = 1.5
    sandbox_faults(credits_used=True)  # the service says what it charged: only the images it made
    token, _plain = tokens.issue(team, teammate, name="ci runner", monthly_cap=Decimal(100))

    # One minute before this month began, a generation starts; it ends after midnight.
    with monkeypatch.context() as clock:
        made_at(clock, credits.month_start() - timedelta(minutes=1))
        over_midnight = generate(team, owner, "a poster at midnight", n=2)
    assert_totals_agree(team)

    halved = generate(team, owner, "two menus [sandbox:produce=1]", n=2)
    refused = generate(team, teammate, "a banner [sandbox:fail=content_policy_violation]")
    scripted = generate(team, teammate, "a product shot", token=token)
    generate(team, teammate, "four labels [sandbox:seconds=600]", n=4, token=token)  # still running at the end
    rejected = generate(team, teammate, "three labels", n=3)  # the service refuses n=3 when it is sent
    make_generation(other_team, None, credits_estimated=Decimal(9))  # another team's: never counted here
    assert_totals_agree(team)
    rejected.refresh_from_db()
    assert rejected.status == Status.FAILED and rejected.credits_charged == 0
    assert credits.spent(credits.this_month(team)) == Decimal(12)  # the reservations of this month's others

    for generation in (over_midnight, halved, refused, scripted):
        drive(generation)
    halved.refresh_from_db()
    assert halved.status == Status.COMPLETED and halved.credits_charged < halved.credits_estimated
    refused.refresh_from_db()
    assert refused.status == Status.FAILED and refused.credits_charged == 0
    assert_totals_agree(team)

    owner_membership = Membership.objects.get(team=team, user=owner)
    operations.delete_generation(owner_membership, Generation.objects.get(pk=halved.pk))
    assert_totals_agree(team)

    # This month's figures are what summing the rows gives.
    assert credits.spent(credits.this_month(team)) == summed_from_rows(team) == Decimal(9)
    assert credits.spent(credits.this_month(team, owner)) == summed_from_rows(team, owner) == Decimal("1.5")
    assert credits.spent(credits.this_month(team, teammate)) == summed_from_rows(team, teammate) == Decimal("7.5")
    assert credits.spent(credits.this_month(team, token=token)) == summed_from_rows(team, token=token)
    assert credits.spent_per_token(team) == {token.pk: Decimal("7.5")}
    usage = month_usage(team, Month.current())
    assert (usage.total.generations, usage.total.images) == (5, 2)
    assert (usage.total.charged, usage.total.reserved) == (Decimal(3), Decimal(6))
    last_month = month_usage(team, Month.current().previous).total
    assert (last_month.generations, last_month.images, last_month.charged) == (1, 2, Decimal(3))

    # The token and then the teammate's account go: their work still counts, as nobody's.
    token.delete()
    assert_totals_agree(team)
    teammate_id = teammate.pk
    teammate.delete()
    assert_totals_agree(team)
    assert credits.spent(credits.this_month(team)) == summed_from_rows(team) == Decimal(9)
    assert not CreditTotal.objects.filter(user_id=teammate_id).exists()
    assert_totals_agree(other_team)


def test_a_total_skipped_is_found_by_the_recount_and_rebuilt(team, owner, capsys):
    generation = make_generation(team, owner, credits_estimated=Decimal(3))
    Generation.objects.filter(pk=generation.pk).update(credits_charged=Decimal(1))  # behind the totals' back

    assert list(totals.recount(team).values()) == [
        (totals.Counted(1, 0, Decimal(0), Decimal(3)), totals.Counted(1, 0, Decimal(1), Decimal(0)))
    ]
    call_command("recount_credits")
    assert "differ" in capsys.readouterr().out
    assert totals.recount(team) != {}  # only reported

    call_command("recount_credits", "--repair")
    assert totals.recount(team) == {}
    assert credits.spent(credits.this_month(team)) == Decimal(1)


def test_the_migration_counts_the_generations_made_before_the_totals(team, owner, teammate):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, filled = [("generations", "0014_credit_totals")], [("generations", "0015_fill_credit_totals")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("generations", "Generation")
        last_month = credits.month_start() - timedelta(days=2)
        old.objects.create(team_id=team.pk, created_by_id=owner.pk, prompt="a", credits_estimated=Decimal(3))
        old.objects.create(
            team_id=team.pk, created_by_id=teammate.pk, prompt="b", credits_estimated=Decimal(3),
            credits_charged=Decimal("1.5"), images_delivered=1, created_at=last_month,
        )
        executor = MigrationExecutor(connection)
        executor.migrate(filled)
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert_totals_agree(team)
    assert credits.spent(credits.this_month(team)) == Decimal(3)
    assert month_usage(team, Month.current().previous).total.charged == Decimal("1.5")


def test_charges_recorded_at_the_same_moment_all_land_in_the_total(team, owner, monkeypatch):
    """Each request locks only its own generation; all of them then add to the same total."""
    from .races import racing

    running = [
        make_generation(team, owner, n=2, status=Status.PROCESSING, credits_estimated=Decimal(3), lease_token=f"l{i}")
        for i in range(4)
    ]

    def settle(generation):
        return lambda: lifecycle.update(generation, credits_charged=Decimal("1.5"), images_delivered=1)

    answers = racing([settle(generation) for generation in running], Generation._meta.db_table, monkeypatch)

    assert answers == [None] * 4
    assert_totals_agree(team)
    usage = month_usage(team, Month.current()).total
    assert (usage.generations, usage.images, usage.charged, usage.reserved) == (4, 4, Decimal(6), Decimal(0))
