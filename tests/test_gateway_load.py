"""`manage.py gatewayload`, short: scripts with personal tokens create and poll tasks through the
whole app on its embedded default; the figures show every endpoint and no error."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from devtools.management.commands.gatewayload import problems

ENDPOINTS = {"POST /v1/images/generations", "GET /v1/tasks/{id}", "GET result link"}


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                    reason="the load test measures the embedded default, which the embedded run covers")
def test_a_short_gateway_load_has_no_errors_and_every_task_completes():
    command = [sys.executable, "manage.py", "gatewayload", "--scripts", "3", "--creates", "2", "--json"]
    result = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    figures = json.loads(result.stdout)
    assert figures["errors"] == 0
    counted = {row["name"]: row["requests"] for row in figures["endpoints"]}
    assert set(counted) == ENDPOINTS
    assert counted["POST /v1/images/generations"] == counted["GET result link"] == 6
    assert figures["tasks"] == {"completed": 6}
    assert figures["database"]["by_status"] == {"completed": 6}
    assert figures["rps"] > 0


def test_errors_unfinished_tasks_and_a_locked_database_fail_the_run():
    clean = {"errors": 0, "database_locked": 0, "database": {"by_status": {"completed": 4}}}
    assert problems(clean) == []
    assert problems({**clean, "errors": 2}) == ["2 errors"]
    assert problems({**clean, "database_locked": 1}) == ["1 'database is locked' log lines"]
    assert problems({**clean, "database": {"by_status": {"completed": 3, "failed": 1}}})
