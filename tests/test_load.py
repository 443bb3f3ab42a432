"""`manage.py loadtest`, short: people sign in, keep the playground open and generate against
the whole app on its embedded default (gunicorn, queue workers, tracker, sandbox), run by
locust; the report shows no error, no locked database and nothing lost."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from devtools.loadtest import report

EXPECTED_ENDPOINTS = {
    "GET /accounts/login/", "POST /accounts/login/", "GET /", "GET /static/*",
    "POST /generate", "GET /history", "GET /generations/[id]",
}


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                    reason="the load test measures the embedded default, which the embedded run covers")
def test_a_short_load_test_has_no_errors_no_locked_database_and_loses_nothing():
    command = [sys.executable, "manage.py", "loadtest", "--users", "5", "--minutes", "0.5", "--json"]
    # Its own process: it starts the app in a scratch data dir and locust in another process.
    result = subprocess.run(command, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    figures = json.loads(result.stdout)

    assert figures["errors"] == 0 and figures["error_messages"] == []
    assert figures["database_locked"] == 0
    assert set(figures["database_locked_by_log"]) == {"app.log", "sandbox.log"}  # both logs were read
    counted = {row["name"]: row["requests"] for row in figures["endpoints"]}
    assert EXPECTED_ENDPOINTS <= set(counted), counted
    assert counted["POST /accounts/login/"] == counted["GET /"] == 5
    assert figures["rps"] > 0

    database = figures["database"]
    assert database["in_database"] == figures["generations"]["submitted"] >= 5
    assert database["by_status"] == {"completed": database["in_database"]}
    assert database["images_stored"] == database["images_asked"] > 0
    assert database["created_to_finished_s"]["p95"] > 0


def test_errors_a_locked_database_and_lost_or_failed_generations_fail_the_run():
    figures = {
        "errors": 0, "database_locked": 0, "generations": {"submitted": 3},
        "database": {"in_database": 3, "by_status": {"completed": 3}, "images_asked": 4, "images_stored": 4},
    }
    assert report.problems(figures) == []

    assert report.problems({**figures, "errors": 2}) == ["2 request errors"]
    assert report.problems({**figures, "database_locked": 1}) == ["1 'database is locked' log lines"]
    lost = {**figures["database"], "in_database": 2, "by_status": {"completed": 2}}
    assert report.problems({**figures, "database": lost}) == ["3 generations submitted, 2 in the database"]
    failed = {**figures["database"], "by_status": {"completed": 2, "failed": 1}, "images_stored": 3}
    assert len(report.problems({**figures, "database": failed})) == 2  # the failure, and an image short
    unfinished = {**figures["database"], "by_status": {"completed": 2, "processing": 1}}
    assert report.problems({**figures, "database": unfinished}) == [
        "generations: {'completed': 2, 'processing': 1}"
    ]
