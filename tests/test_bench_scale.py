"""`manage.py bench --scale`, with tiny counts: the scale setup's sections on PostgreSQL, with
two tracker processes, and nothing left behind. Runs on CI's second, scale-setup run."""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.processes,
    pytest.mark.engines,
    pytest.mark.slow,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="bench --scale measures the scale setup: it needs DATABASE_URL pointing at PostgreSQL",
    ),
]


def test_bench_scale_measures_history_and_two_tracker_processes_on_scratch_places():
    command = [
        sys.executable, "manage.py", "bench", "--scale", "--generations", "60", "--requests", "8",
        "--history-page", "300", "--tracker-loads", "20", "--tracker-seconds", "4", "--completions", "3",
    ]
    # Its own process: the bench makes and drops its scratch database as a test run does.
    output = subprocess.run(command, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True, check=True).stdout
    report = json.loads(output)

    engines = report["engines"]
    assert engines["database"] == "postgresql" and engines["trackers"] == 2
    assert engines["scratch_database"].startswith("bench_")
    assert report["history_fragment"]["generations_in_database"] == 120  # and as many of another team
    assert report["history_fragment"]["rendered_ms"]["p50"] > 0
    for view in ("unfiltered", "prompt_search", "combined_filter", "page_21_unfiltered"):
        assert report["history_page"][f"{view}_ms"]["p50"] > 0

    tracker = report["tracker"]
    [run] = tracker["runs"]
    assert run["in_flight"] == 20 and run["lateness_ms"]["count"] > 0
    assert sorted(run["polls_by_tracker"]) == ["tracker-1", "tracker-2"]
    assert all(polls > 0 for polls in run["polls_by_tracker"].values())
    # Every claim made one poll, and no two polls of a task ever overlapped.
    assert run["polls_seen_by_sandbox"] == sum(run["polls_by_tracker"].values())
    assert run["overlapping_polls"] == 0

    completion = report["completion_to_stored"]
    assert completion["stored"] == completion["image_files_found"] == 3
    assert completion["delay_ms"]["p50"] > 0

    # The scratch database and storage are gone.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [engines["scratch_database"]])
        assert cursor.fetchone()[0] == 0
    if engines["storage"].endswith("S3Storage"):
        assert not list(default_storage.bucket.objects.filter(Prefix=engines["scratch_storage"] + "/"))
