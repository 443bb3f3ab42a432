"""The bench's batch_run section, small: a batch through the app's own processes while teammates
watch; its figures are printed and sane (no timings are judged here)."""

import pytest
from django.db import connection

from devtools.bench import batch_run, seeding
from playground.generations.models import Generation, Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def test_a_small_batch_run_finishes_under_the_cap_with_no_locked_database(sandbox, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the section measures the embedded default (SQLite)")
    settings.TEAM_TASKS_IN_FLIGHT = 3
    team, user = seeding.bench_team()

    report = batch_run.bench_batch_run(team, user, sandbox, rows=12, viewers=2, task_seconds=1)

    assert report["rows"] == 12 and report["viewers"] == 2
    assert report["all_done"] and report["done"] == 12 and report["failed"] == 0
    assert Generation.objects.filter(team=team, status=Status.COMPLETED).count() == 12
    assert 1 <= report["peak_in_flight"] <= report["team_tasks_in_flight_cap"] == 3
    assert report["database_locked"] == 0 and report["viewer_errors"] == 0
    assert report["time_to_all_done_s"] > 0
    assert report["history_fragment_ms"]["count"] >= 2 and report["history_fragment_ms"]["p95"] > 0
    assert set(report["history_answers"]) <= {"200", "204", "286"}
    assert sum(report["batch_progress_answers"].values()) == report["batch_progress_ms"]["count"]
    lateness = report["tracker_lateness"]
    assert lateness["polls"] >= 12 and lateness["poll_lateness_ms"]["count"] > 0
