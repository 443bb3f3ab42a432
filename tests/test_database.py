import os

import pytest
from django.db import connection
from django.views.debug import get_default_exception_reporter_filter

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="WAL, PRAGMAs and IMMEDIATE are SQLite's")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the scale setup's PostgreSQL")


@sqlite_only
def test_sqlite_runs_in_wal_mode_with_immediate_transactions_and_a_busy_timeout(db):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@postgresql_only
def test_postgresql_connections_are_kept_and_checked_before_reuse_and_text_is_utf8(db):
    assert connection.settings_dict["CONN_MAX_AGE"] == int(os.environ.get("DATABASE_CONN_MAX_AGE", 60))
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_encoding")
        assert cursor.fetchone()[0] == "UTF8"


def test_error_reports_hide_the_passwords_in_the_engines_urls(settings):
    password = "hunter2-not-for-reports"
    settings.DATABASE_URL = f"postgres://playground:{password}@db.internal/playground"
    settings.REDIS_URL = f"redis://:{password}@cache.internal:6379/0"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": settings.REDIS_URL}
    safe = get_default_exception_reporter_filter().get_safe_settings()
    assert password not in repr(safe)
    assert safe["DATABASE_URL"] == safe["Q_CLUSTER"] == "********************"
