"""The people of a load test, and what became of their generations."""

import math
import secrets
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Sum

from devtools.figures import percentiles
from playground.generations.models import FINISHED, GeneratedImage, Generation, Status
from playground.teams.models import Membership, Team


@transaction.atomic
def create_people(count, team_size, password):
    """Teams of team_size members (no budgets), all with one password; returns (teams, usernames).

    Names carry a fresh run token, so runs against one database never meet."""
    run = secrets.token_hex(3)
    hashed = make_password(password)  # once: the hasher is slow on purpose
    teams, usernames = [], []
    for number in range(1, math.ceil(count / team_size) + 1):
        team = Team.objects.create(name=f"Load test {run} #{number}", slug=f"loadtest-{run}-{number}")
        teams.append(team)
        for _ in range(min(team_size, count - len(usernames))):
            username = f"loadtest-{run}-{len(usernames) + 1}"
            user = get_user_model().objects.create(username=username, password=hashed)
            Membership.objects.create(team=team, user=user, role=Membership.Role.MEMBER)
            usernames.append(username)
    return teams, usernames


def settle(teams, timeout):
    """Wait up to timeout seconds for the teams' generations to finish; then what they became."""
    generations = Generation.objects.filter(team__in=teams)
    deadline = time.monotonic() + timeout
    while generations.exclude(status__in=FINISHED).exists() and time.monotonic() < deadline:
        time.sleep(1)
    finished = generations.filter(status__in=FINISHED, finished_at__isnull=False)
    completed = generations.filter(status=Status.COMPLETED)
    return {
        "in_database": generations.count(),
        "by_status": dict(generations.order_by().values_list("status").annotate(Count("id"))),
        "images_asked": completed.aggregate(total=Sum("n"))["total"] or 0,
        "images_stored": GeneratedImage.objects.filter(generation__in=completed).count(),
        "created_to_finished_s": percentiles(
            (row.finished_at - row.created_at).total_seconds() for row in finished.only("created_at", "finished_at")
        ),
    }
