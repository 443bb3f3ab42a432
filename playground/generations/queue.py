"""The team's own line: generations wait here until the team has room for them upstream.

A team has at most TEAM_TASKS_IN_FLIGHT tasks in flight (IN_FLIGHT: let out of the line
and not yet done upstream). A generation made while the team is full waits (`waiting`,
nothing sent, its credits reserved). `admit` lets waiting rows out, as `queued`, for the
queue workers and the tracker to send as before; the tracker runs it each pass, and
lifecycle runs it as soon as a task leaves the upstream.

Who goes first (`line`): a person's own clicks (the `interactive` lane: the page, the
gateway) before any batch row, oldest first; then the batch rows, people taking turns,
the person whose batch row was let out longest ago (or never) first.

Every decision is made under the team's row lock, the one `credits.reserve` takes, so any
number of trackers and requests at once never let out more than the cap (PostgreSQL waits
on the row lock; SQLite's IMMEDIATE transactions serialize writers).

A 429 from the upstream (`slow_down`) holds the whole team's line until its Retry-After.
"""

import logging
from collections import defaultdict, deque
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from playground.teams.models import Team

from .models import IN_FLIGHT, Generation, Lane, Status
from .tasks import enqueue_submit

log = logging.getLogger(__name__)

NEVER = timezone.make_aware(datetime.min + timedelta(days=1))


def locked(team):
    """The team's row, locked to the end of the transaction (as credits.reserve locks it)."""
    return Team.objects.select_for_update().get(pk=team.pk)


def held(team, now=None):
    """Whether the upstream asked the team to wait (see `slow_down`)."""
    return bool(team.send_after and team.send_after > (now or timezone.now()))


def room(team):
    """How many more of the team's tasks may be in flight now."""
    return settings.TEAM_TASKS_IN_FLIGHT - Generation.objects.filter(team=team, status__in=IN_FLIGHT).count()


def may_go_now(team, lane):
    """For a new generation, under the team's lock: whether it goes out at once, as it always
    did, or waits. It waits when the team is full or held, or when someone is ahead of it."""
    if held(team) or room(team) <= 0:
        return False
    ahead = Generation.objects.filter(team=team, status=Status.WAITING)
    if lane == Lane.INTERACTIVE:
        ahead = ahead.filter(lane=Lane.INTERACTIVE)
    return not ahead.exists()


def line(team, limit=None):
    """The ids of the team's waiting generations, in the order they are let out."""
    waiting = Generation.objects.filter(team=team, status=Status.WAITING)
    clicks = waiting.filter(lane=Lane.INTERACTIVE).order_by("created_at", "id").values_list("pk", flat=True)
    order = list(clicks[:limit] if limit is not None else clicks)
    if limit is not None and len(order) >= limit:
        return order
    return order + batch_turns(team, waiting.filter(lane=Lane.BATCH), None if limit is None else limit - len(order))


def batch_turns(team, waiting, limit):
    """Waiting batch rows, one person's at a time in turn, each person's oldest first."""
    people = defaultdict(deque)
    for pk, person in waiting.order_by("created_at", "id").values_list("pk", "created_by_id"):
        people[person].append(pk)
    served = last_served(team, people)
    # Never served first, then longest ago; a tie goes to whoever has waited longest.
    turns = deque(sorted(people, key=lambda person: (served.get(person, NEVER), people[person][0])))
    order = []
    while turns and (limit is None or len(order) < limit):
        person = turns.popleft()
        order.append(people[person].popleft())
        if people[person]:
            turns.append(person)
    return order


def last_served(team, people):
    """When each person's last batch row was let out, by person id (None: a deleted account)."""
    whose = Q(created_by__in=[person for person in people if person is not None])
    if None in people:
        whose |= Q(created_by__isnull=True)
    rows = (
        Generation.objects.filter(whose, team=team, lane=Lane.BATCH, admitted_at__isnull=False)
        .order_by()
        .values("created_by")
        .annotate(last=Max("admitted_at"))
    )
    return {row["created_by"]: row["last"] for row in rows}


def ahead_of(generation):
    """How many of the team's generations will be let out before this waiting one; None
    when it is not waiting."""
    return positions(generation.team).get(generation.pk)


def positions(team):
    """Each waiting generation's count of those ahead of it, by id: one read for a whole page."""
    return {pk: place for place, pk in enumerate(line(team))}


@transaction.atomic
def admit(team):
    """Let the team's waiting generations out while it has room; returns the ids let out."""
    team = locked(team)
    now = timezone.now()
    if held(team, now):
        return []
    free = room(team)
    if free <= 0:
        return []
    chosen = line(team, free)
    timelines = dict(Generation.objects.filter(pk__in=chosen).values_list("pk", "timeline"))
    # Apart by a microsecond each, so the turns of one pass stay in order for the next.
    return [pk for offset, pk in enumerate(chosen) if let_out(pk, timelines[pk], now + timedelta(microseconds=offset))]


def let_out(pk, timeline, at):
    """Queue a waiting generation to be sent; False when it was no longer waiting."""
    changed = Generation.objects.filter(pk=pk, status=Status.WAITING).update(
        status=Status.QUEUED,
        admitted_at=at,
        updated_at=at,
        timeline=[*timeline, [Status.QUEUED, at.isoformat()]],
        next_check_at=at + timedelta(seconds=settings.STALL_SECONDS),  # the tracker's safety net
    )
    if changed:
        enqueue_submit(pk)
    return bool(changed)


def admit_waiting():
    """The tracker's pass: admit for every team that has generations waiting."""
    teams = Generation.objects.filter(status=Status.WAITING).order_by().values_list("team", flat=True).distinct()
    for team in Team.objects.filter(pk__in=list(teams)):
        # A first look without the lock: a team full or held costs no write transaction each pass.
        if not held(team) and room(team) > 0:
            admit(team)


def admit_after_end(team):
    """A task of the team left the upstream: the next waiting one may go. A failure here (the
    database busy) is only logged: the tracker's next pass admits it."""
    try:
        admit(team)
    except Exception:
        log.exception("admitting the team %s's waiting generations failed", team.pk)


def slow_down(team, seconds):
    """The upstream refused the team's key for now (429): hold its line for `seconds`.
    Only ever pushed later, in one conditional UPDATE, so two refusals at once keep the later."""
    until = timezone.now() + timedelta(seconds=seconds)
    Team.objects.filter(Q(send_after__isnull=True) | Q(send_after__lt=until), pk=team.pk).update(send_after=until)
