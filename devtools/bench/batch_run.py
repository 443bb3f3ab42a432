"""The bench's batch_run section: a batch of many rows through the app's own processes on the
embedded default (SQLite), against the sandbox, while teammates watch.

The batch is started by `manage.py batch` in this process; the queue workers, the tracker and
the web server run as `manage.py up` runs them (see app_processes.py). Viewers poll the History
panel and the batch's progress over HTTP as the pages' htmx does (viewers.py).

- tracker lateness: a trigger in the scratch database notes each claim of a generation (its
  status and due time before, the claim's time); a poll's lateness is its claim minus its due time.
- peak in flight: from each generation's timeline (it enters the team's count when let out
  as `queued`, leaves it at `ingesting` or an end), so no peak falls between two samples.
- "database is locked": lines in the processes' logs, and errors met in this process.
"""

import tempfile
import threading
import time
from datetime import datetime
from io import StringIO
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.urls import reverse
from django_q.conf import Conf

from devtools.bench.app_processes import app_processes, lines_with
from devtools.bench.measuring import milliseconds
from devtools.bench.viewers import Viewer
from playground.batches import runs
from playground.batches.models import Batch
from playground.generations.models import IN_FLIGHT, RUNNING, UPSTREAM_ACTIVE, Generation
from playground.teams.models import Membership

TEMPLATE = "A {{product}} on a {{surface}}, soft studio light, {{angle}} view"
LOCKED = "database is locked"
DONE_TIMEOUT_SECONDS = 3600

CLAIM_LOG = (
    "CREATE TABLE bench_claim (generation_id integer, status text, due text, claimed text)",
    """
CREATE TRIGGER bench_note_claims AFTER UPDATE OF lease_token ON {table}
WHEN NEW.lease_token <> '' AND NEW.lease_token IS NOT OLD.lease_token
BEGIN
    INSERT INTO bench_claim VALUES (NEW.id, OLD.status, OLD.next_check_at, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END
""",
)


def bench_batch_run(team, user, sandbox, rows=500, viewers=5, task_seconds=3.0):
    if connection.vendor != "sqlite":
        return {"skipped": "the embedded default (SQLite) only"}
    people = watchers(team, viewers)
    note_claims()
    sync, Conf.SYNC = Conf.SYNC, False  # jobs go to the queue the workers read, as under `up`
    faults(sandbox, task_seconds=task_seconds)
    try:
        with tempfile.TemporaryDirectory() as folder, app_processes(
            sandbox, folder, LOG_LEVEL="INFO", TEAM_TASKS_IN_FLIGHT=settings.TEAM_TASKS_IN_FLIGHT
        ) as (url, logs):
            figures = {"task_seconds": task_seconds, **run(team, user, people, url, Path(folder), rows)}
            figures["database_locked"] += lines_with(logs, LOCKED)
    finally:
        Conf.SYNC = sync
        httpx.delete(f"{sandbox.url}/_sandbox/faults", headers=sandbox.headers).raise_for_status()
    figures["tracker_lateness"] = read_claims()
    return figures


def run(team, user, people, url, folder, rows):
    """Teammates watch the History panel; the batch starts; they watch its progress too until
    every row is done."""
    csv = folder / "rows.csv"
    csv.write_text(table(rows))
    stop = threading.Event()
    watching = [Viewer(url, person, reverse("studio:history"), stop) for person in people]
    for viewer in watching:
        viewer.start()
    errors = []
    try:
        started = time.monotonic()
        call_command("batch", TEMPLATE, "--csv", str(csv), "--user", user.username, "--team", team.slug,
                     "--name", f"Bench batch of {rows}", stdout=StringIO())
        started_in = time.monotonic() - started
        batch = Batch.objects.get(team=team, name=f"Bench batch of {rows}")
        progress_url = reverse("studio:batch-progress", args=[batch.public_id])
        for viewer in watching:  # the batch's page polls its progress and its first page of rows apart
            viewer.others = {progress_url: {}, f"{progress_url}?part=rows": {"part": "rows"}}
        finished = wait_until_done(batch, errors)
        done_in = time.monotonic() - started
    finally:
        stop.set()
        for viewer in watching:
            viewer.join()
    progress = runs.progress([batch])[batch.pk]
    return {
        "rows": rows,
        "viewers": len(people),
        "all_done": finished and progress.finished,
        "done": progress.done,
        "failed": progress.failed,
        "started_in_s": round(started_in, 2),
        "time_to_all_done_s": round(done_in, 1),
        **watched(watching),
        "peak_in_flight": peak_in_flight(batch),
        "team_tasks_in_flight_cap": settings.TEAM_TASKS_IN_FLIGHT,
        "database_locked": sum(LOCKED in error for error in errors)
        + sum(LOCKED in error for viewer in watching for error in viewer.errors),
        "viewer_errors": sum(len(viewer.errors) for viewer in watching),
    }


def watched(watching):
    """What the viewers saw: the History panel's latency (all answers, and its 204s apart) and
    the progress URL's, with each one's answers counted by status."""
    def joined(name):
        return sum((getattr(viewer, name) for viewer in watching), [])

    progress_answers = total_statuses(viewer.other_statuses for viewer in watching)
    return {
        "history_fragment_ms": milliseconds(joined("history_seconds")),
        "history_unchanged_204_ms": milliseconds(joined("history_unchanged")),
        "history_answers": total_statuses(viewer.history_statuses for viewer in watching),
        "batch_progress_ms": milliseconds(joined("other_seconds")),
        "batch_progress_answers": progress_answers,
        "batch_progress_not_200_or_204": sum(
            count for status, count in progress_answers.items() if status not in ("200", "204", "286")
        ),
    }


def table(rows):
    """A CSV of `rows` distinct rows for TEMPLATE."""
    lines = ["product,surface,angle"]
    lines += [f"product {number},surface {number % 7},angle {number % 3}" for number in range(rows)]
    return "\n".join(lines) + "\n"


def watchers(team, count):
    """Teammates who keep the page open."""
    people = []
    for number in range(1, count + 1):
        person = get_user_model().objects.create_user(f"bench-viewer-{number}")
        Membership.objects.create(team=team, user=person, role=Membership.Role.MEMBER)
        people.append(person)
    return people


def faults(sandbox, **switches):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=switches, headers=sandbox.headers).raise_for_status()


def wait_until_done(batch, errors):
    unfinished = Generation.objects.filter(batch=batch, status__in=RUNNING)
    deadline = time.monotonic() + DONE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if not unfinished.exists():
                return True
        except Exception as error:  # counted, not fatal: the figures say it
            errors.append(repr(error))
            close_old_connections()
        time.sleep(0.25)
    return False


def total_statuses(counters):
    total = {}
    for counter in counters:
        for status, count in counter.items():
            total[status] = total.get(status, 0) + count
    return dict(sorted(total.items()))


def peak_in_flight(batch):
    """The most of the batch's generations in flight at once, from their timelines."""
    events = []
    for timeline in Generation.objects.filter(batch=batch).values_list("timeline", flat=True):
        inside = False
        for status, at in timeline:
            now_inside = status in IN_FLIGHT
            if now_inside != inside:
                events.append((datetime.fromisoformat(at), 1 if now_inside else -1))
            inside = now_inside
    peak = current = 0
    for _at, change in sorted(events, key=lambda event: (event[0], event[1])):  # leaving before entering
        current += change
        peak = max(peak, current)
    return peak


def note_claims():
    with connection.cursor() as cursor:
        for statement in CLAIM_LOG:
            cursor.execute(statement.replace("{table}", Generation._meta.db_table))


def read_claims():
    """How late the polls of due generations started against their due time (and the tracker's
    takeovers of queued or ingesting rows that no worker took in time); the log is dropped."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, due, claimed FROM bench_claim WHERE due IS NOT NULL")
        claims = cursor.fetchall()
        cursor.execute("DROP TRIGGER bench_note_claims")
        cursor.execute("DROP TABLE bench_claim")
    polls, takeovers, early = [], [], 0
    for status, due, claimed in claims:
        late = (parse(claimed) - parse(due)).total_seconds()
        if status in UPSTREAM_ACTIVE:
            if late < 0:
                early += 1  # claimed by a poll another step asked for before its time
            else:
                polls.append(late)
        elif late >= 0:
            takeovers.append(late)
    return {
        "polls": len(polls) + early,
        "poll_lateness_ms": milliseconds(polls),
        "polls_before_due": early,
        "stalled_rows_taken_over": len(takeovers),
        "takeover_lateness_ms": milliseconds(takeovers),
    }


def parse(text):
    return datetime.fromisoformat(text.replace(" ", "T"))
