"""Starting a batch: its ready rows become generations in the team's batch lane, whole or not at all;
its progress, the retry of its failed rows and the cancel of its waiting ones."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from playground.batches import preview, runs
from playground.batches.models import Batch, BatchRow
from playground.batches.rows import Defaults
from playground.generations import credits
from playground.generations.models import Generation, Lane, Status
from playground.teams.models import Membership

pytestmark = pytest.mark.django_db

TEMPLATE = "A {{product}} on a {{surface}}"


@pytest.fixture(autouse=True)
def nothing_let_out(settings):
    """Every row waits in the line: nothing is sent in these tests."""
    settings.TEAM_TASKS_IN_FLIGHT = 0


def member(team, user):
    return Membership.objects.get(team=team, user=user)


def checked(team, text, n=1):
    return preview.from_upload(team, TEMPLATE, text.encode(), Defaults(size="2:3", n=n))


def start(team, user, text="product,surface\nmug,oak\nvase,marble\nlamp,slate\n", **options):
    return runs.start(member(team, user), checked(team, text, options.pop("n", 1)), name="Spring shoot", **options)


def reserved(team):
    return credits.spent(credits.this_month(team))


def test_each_ready_row_waits_in_the_batch_lane_as_its_own_generation(team, owner):
    batch = start(team, owner, n=2)

    rows = list(batch.rows.select_related("generation"))
    assert [(row.number, row.values, row.generation.prompt) for row in rows] == [
        (2, {"product": "mug", "surface": "oak"}, "A mug on a oak"),
        (3, {"product": "vase", "surface": "marble"}, "A vase on a marble"),
        (4, {"product": "lamp", "surface": "slate"}, "A lamp on a slate"),
    ]
    assert {(row.generation.status, row.generation.lane, row.generation.size, row.generation.n) for row in rows} == {
        (Status.WAITING, Lane.BATCH, "2:3", 2)
    }
    assert batch.generations.count() == 3 and (batch.size, batch.n, batch.template) == ("2:3", 2, TEMPLATE)
    assert reserved(team) == credits.estimate(2) * 3


def test_a_batch_the_budget_cannot_cover_is_refused_with_its_numbers_and_nothing_is_kept(team, owner):
    team.monthly_budget = credits.estimate(1) * 2
    team.save(update_fields=["monthly_budget"])

    with pytest.raises(credits.BudgetExceeded) as refused:
        start(team, owner)

    assert "This batch needs" in refused.value.message
    assert str(credits.estimate(1) * 3).rstrip("0") in refused.value.message
    assert not Batch.objects.exists() and not Generation.objects.exists() and not BatchRow.objects.exists()
    assert reserved(team) == 0


def test_rows_with_problems_stop_the_batch_unless_skipped_and_then_are_kept_with_their_reason(team, owner):
    text = "product,surface,n\nmug,oak,1\nvase,marble,7\n"
    with pytest.raises(runs.NotReady):
        start(team, owner, text)
    assert not Batch.objects.exists() and not Generation.objects.exists()

    batch = start(team, owner, text, skip_problems=True)

    sent, skipped = batch.rows.all()
    assert sent.generation.prompt == "A mug on a oak" and sent.skipped == ""
    assert skipped.generation is None and skipped.skipped and skipped.prompt == "A vase on a marble"
    assert batch.generations.count() == 1
    assert runs.progress([batch])[batch.pk] == runs.Progress(total=1, waiting=1, skipped=1)


def test_a_refused_source_starts_nothing(team, owner):
    with pytest.raises(runs.NotReady):
        start(team, owner, "product\nmug\n")  # no surface column
    assert not Batch.objects.exists()


def test_progress_counts_each_row_by_its_last_attempt(team, owner):
    batch = start(team, owner, "product,surface\n" + "".join(f"p{i},oak\n" for i in range(6)))
    generations = list(batch.generations.order_by("pk"))
    statuses = [Status.COMPLETED, Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.PROCESSING]
    for generation, status in zip(generations, statuses, strict=False):  # the sixth stays waiting
        Generation.objects.filter(pk=generation.pk).update(status=status)

    assert runs.progress([batch])[batch.pk] == runs.Progress(total=6, done=2, failed=1, cancelled=1, waiting=2)


def test_cancel_ends_only_the_waiting_rows_and_releases_their_credits_at_once(team, owner):
    batch = start(team, owner)
    first = batch.generations.order_by("pk").first()
    Generation.objects.filter(pk=first.pk).update(status=Status.PROCESSING)

    assert runs.cancel_waiting(member(team, owner), batch) == 2

    assert sorted(batch.generations.values_list("status", flat=True)) == [Status.CANCELLED] * 2 + [Status.PROCESSING]
    assert reserved(team) == credits.estimate(1)  # only the row on its way upstream still holds its credits
    assert runs.cancel_waiting(member(team, owner), batch) == 0


def test_only_its_maker_owners_and_admins_may_cancel_or_retry_a_batch(team, owner, teammate, other_team, outsider):
    batch = start(team, teammate)
    with pytest.raises(PermissionDenied):
        runs.cancel_waiting(member(other_team, outsider), batch)
    other = start(team, owner)
    with pytest.raises(PermissionDenied):
        runs.cancel_waiting(member(team, teammate), other)
    with pytest.raises(PermissionDenied):
        runs.retry_failed(member(team, teammate), other)
    assert Generation.objects.filter(status=Status.CANCELLED).count() == 0
    assert runs.cancel_waiting(member(team, owner), batch) == 3  # an owner may


def test_retry_sends_the_failed_rows_again_as_new_generations(team, owner):
    batch = start(team, owner)
    failed = batch.generations.order_by("pk").first()
    Generation.objects.filter(pk=failed.pk).update(status=Status.FAILED, credits_estimated=Decimal(0))

    assert runs.retry_failed(member(team, owner), batch) == 1

    row = batch.rows.get(number=2)
    assert row.generation_id != failed.pk
    assert (row.generation.prompt, row.generation.status, row.generation.batch) == (failed.prompt, Status.WAITING, batch)
    assert Generation.objects.get(pk=failed.pk).status == Status.FAILED  # the failed attempt stays in the history
    assert runs.progress([batch])[batch.pk] == runs.Progress(total=3, waiting=3)
    assert runs.retry_failed(member(team, owner), batch) == 0


@pytest.mark.django_db(transaction=True)
def test_two_retries_at_once_send_each_failed_row_once(team, owner, monkeypatch):
    """A double click on Retry: both requests start together; each reads the failed rows, and
    without the team's lock around that read both would send them."""
    from .races import racing

    batch = start(team, owner)
    Generation.objects.filter(batch=batch).update(status=Status.FAILED)

    def retry():
        return runs.retry_failed(member(team, owner), Batch.objects.get(pk=batch.pk))

    answers = racing([retry, retry], BatchRow._meta.db_table, monkeypatch)

    assert sorted(answers, key=str) == [0, 3], answers
    assert batch.generations.filter(status=Status.WAITING).count() == 3  # one new attempt per row, no orphan


def test_cancel_ends_every_waiting_row_even_when_the_team_has_room_to_let_some_out(team, owner, settings):
    batch = start(team, owner, "product,surface\n" + "".join(f"p{i},oak\n" for i in range(5)))
    settings.TEAM_TASKS_IN_FLIGHT = 3  # room opens, say as a 429's hold ends, before the tracker's next pass

    assert runs.cancel_waiting(member(team, owner), batch) == 5

    assert set(batch.generations.values_list("status", flat=True)) == {Status.CANCELLED}
