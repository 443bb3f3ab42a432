"""The team's own line: the cap of tasks in flight, who goes first, and a 429 holding it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playground.evolink import errors
from playground.generations import lifecycle, queue
from playground.generations.models import Generation, Lane, Status
from playground.teams.models import Team

from .conftest import make_generation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cap(settings):
    settings.TEAM_TASKS_IN_FLIGHT = 3


def waiting(team, user=None, lane=Lane.INTERACTIVE, count=1, prompt="a red bicycle"):
    """Waiting generations made one after the other, oldest first."""
    start = timezone.now() - timedelta(hours=1)
    made = Generation.objects.filter(team=team).count()
    return [
        make_generation(
            team, user, status=Status.WAITING, lane=lane, prompt=f"{prompt} {number}",
            created_at=start + timedelta(seconds=made + number),
        )
        for number in range(count)
    ]


def in_flight(team):
    return Generation.objects.filter(team=team, status__in=(Status.QUEUED, Status.SUBMITTING, Status.PENDING,
                                                            Status.PROCESSING))


def end(generations):
    Generation.objects.filter(pk__in=[generation.pk for generation in generations]).update(status=Status.COMPLETED)


def test_no_more_than_the_cap_is_let_out_however_many_wait(team):
    make_generation(team, status=Status.PROCESSING, task_id="t-1")
    rows = waiting(team, count=20)

    let_out = queue.admit(team)

    assert let_out == [rows[0].pk, rows[1].pk]  # the oldest, into the two free places
    assert in_flight(team).count() == 3
    assert queue.admit(team) == []  # full: nothing more, however often it runs
    assert Generation.objects.filter(team=team, status=Status.WAITING).count() == 18
    let_out = Generation.objects.get(pk=rows[0].pk)
    assert let_out.status == Status.QUEUED and let_out.admitted_at and let_out.next_check_at
    assert let_out.timeline[-1][0] == Status.QUEUED

    end(in_flight(team))
    assert queue.admit(team) == [rows[2].pk, rows[3].pk, rows[4].pk]


def test_each_team_has_its_own_cap(team, other_team):
    waiting(team, count=5)
    waiting(other_team, count=5)
    queue.admit_waiting()
    assert in_flight(team).count() == 3 and in_flight(other_team).count() == 3


def test_a_click_goes_ahead_of_batch_rows_that_waited_longer(team, owner):
    batch = waiting(team, owner, Lane.BATCH, count=4)
    click = waiting(team, owner, Lane.INTERACTIVE)[0]

    assert queue.line(team)[0] == click.pk
    assert queue.admit(team) == [click.pk, batch[0].pk, batch[1].pk]


def test_two_peoples_batches_take_turns_across_passes(team, owner, teammate):
    first = waiting(team, owner, Lane.BATCH, count=3, prompt="olivia")
    second = waiting(team, teammate, Lane.BATCH, count=3, prompt="tom")  # queued after all of the first

    assert queue.line(team) == [first[0].pk, second[0].pk, first[1].pk, second[1].pk, first[2].pk, second[2].pk]

    # One place at a time, as tasks end: still turn by turn.
    make_generation(team, status=Status.PROCESSING, task_id="t-1")
    make_generation(team, status=Status.PROCESSING, task_id="t-2")
    served = []
    for _turn in range(6):
        served += queue.admit(team)
        end(in_flight(team).filter(pk__in=served))
    whose = [Generation.objects.get(pk=pk).created_by for pk in served]
    assert [user.username for user in whose] == ["olivia", "tom"] * 3


def test_the_person_served_longest_ago_goes_first(team, owner, teammate):
    served_before = make_generation(team, owner, status=Status.COMPLETED, lane=Lane.BATCH)
    Generation.objects.filter(pk=served_before.pk).update(admitted_at=timezone.now() - timedelta(minutes=1))
    mine = waiting(team, owner, Lane.BATCH, count=2, prompt="olivia")
    theirs = waiting(team, teammate, Lane.BATCH, count=2, prompt="tom")  # later, but never served

    assert queue.line(team) == [theirs[0].pk, mine[0].pk, theirs[1].pk, mine[1].pk]


def test_each_waiting_generation_knows_how_many_are_ahead(team, owner, teammate):
    batch_mine = waiting(team, owner, Lane.BATCH, count=2, prompt="olivia")
    batch_theirs = waiting(team, teammate, Lane.BATCH, count=1, prompt="tom")
    clicks = waiting(team, teammate, Lane.INTERACTIVE, count=2)

    assert [queue.ahead_of(row) for row in clicks] == [0, 1]
    assert [queue.ahead_of(row) for row in batch_mine] == [2, 4]
    assert queue.ahead_of(batch_theirs[0]) == 3
    assert queue.ahead_of(make_generation(team, status=Status.PROCESSING)) is None


def test_a_429_holds_the_teams_line_until_its_time(team, other_team):
    rows = waiting(team, count=2)
    waiting(other_team, count=1)
    queue.slow_down(team, 30)
    queue.slow_down(team, 5)  # a shorter wait after a longer one does not shorten it

    queue.admit_waiting()
    assert in_flight(team).count() == 0
    assert in_flight(other_team).count() == 1  # the other team's key was not refused
    team.refresh_from_db()
    assert team.send_after > timezone.now() + timedelta(seconds=25)

    Team.objects.filter(pk=team.pk).update(send_after=timezone.now() - timedelta(seconds=1))  # its time came
    assert queue.admit(team) == [row.pk for row in rows]


class RefusingClient:
    def __init__(self):
        self.creates = 0

    def create_task(self, body, idempotency_key=None):
        self.creates += 1
        raise errors.RateLimited(retry_after=40)


def test_a_429_on_a_submit_holds_the_whole_team(team, monkeypatch):
    client = RefusingClient()
    monkeypatch.setattr(lifecycle, "client_from", lambda account, polling=False: client)
    refused, other = (make_generation(team, status=Status.QUEUED, next_check_at=timezone.now()) for _ in range(2))
    later_one = waiting(team)[0]

    lifecycle.submit(refused.pk)
    lifecycle.submit(other.pk)

    assert client.creates == 1  # the other one was not sent into the refusal
    team.refresh_from_db()
    assert team.send_after > timezone.now() + timedelta(seconds=35)
    other.refresh_from_db()
    assert other.status == Status.QUEUED and other.next_check_at == team.send_after and other.attempts == 0
    assert queue.admit(team) == []
    assert Generation.objects.get(pk=later_one.pk).status == Status.WAITING


def test_a_new_generation_goes_at_once_while_the_team_has_room(team, owner):
    generation = lifecycle.create(team, owner, prompt="a kite", size="1:1", n=1)
    assert generation.status == Status.QUEUED and generation.timeline[0][0] == Status.QUEUED


def test_a_new_generation_waits_when_the_team_is_full_or_someone_is_ahead(team, owner):
    for _ in range(3):
        make_generation(team, status=Status.PENDING, task_id="t")
    full = lifecycle.create(team, owner, prompt="a kite", size="1:1", n=1)
    assert full.status == Status.WAITING and full.next_check_at is None

    end(in_flight(team)[:1])
    behind = lifecycle.create(team, owner, prompt="a boat", size="1:1", n=1)
    assert behind.status == Status.WAITING  # room now, but the kite came first
    assert queue.admit(team) == [full.pk]


def test_a_click_does_not_wait_behind_batch_rows(team, owner):
    waiting(team, owner, Lane.BATCH, count=2)
    assert lifecycle.create(team, owner, prompt="a kite", size="1:1", n=1).status == Status.QUEUED
    batch_row = lifecycle.create(team, owner, prompt="a boat", size="1:1", n=1, lane=Lane.BATCH)
    assert batch_row.status == Status.WAITING


def test_people_removed_from_the_team_keep_their_turn(team):
    gone = make_user("gone", team)
    rows = waiting(team, gone, Lane.BATCH, count=2)
    Generation.objects.filter(pk__in=[row.pk for row in rows]).update(created_by=None)
    assert queue.line(team) == [row.pk for row in rows]
