import sqlite3
import threading
import time

import pytest
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.views.debug import get_default_exception_reporter_filter

from playground.teams.models import Team

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="WAL, PRAGMAs and IMMEDIATE are SQLite's")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the scale setup's PostgreSQL")


def other_sqlite_connection(timeout):
    """A connection of another process's kind to the test database, with its own busy timeout."""
    return sqlite3.connect(connection.settings_dict["NAME"], timeout=timeout, isolation_level=None,
                           check_same_thread=False)


@sqlite_only
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


@sqlite_only
@pytest.mark.django_db(transaction=True)  # another connection must see what this one holds
def test_a_sqlite_transaction_holds_the_write_lock_from_its_start():
    """IMMEDIATE transactions: one that has only read yet already keeps every other writer
    out, so two read-then-write transactions run one after the other instead of the second
    failing at its write."""
    other = other_sqlite_connection(timeout=0.1)
    table = Team._meta.db_table
    try:
        with transaction.atomic():
            Team.objects.count()  # a read, nothing written yet
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute(f"UPDATE {table} SET name = name")
        other.execute(f"UPDATE {table} SET name = name")  # free again once it ended
    finally:
        other.close()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_writer_waits_for_the_one_holding_the_lock_instead_of_failing():
    other = other_sqlite_connection(timeout=1)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, other.execute, ["COMMIT"])
    release.start()
    started = time.monotonic()
    try:
        Team.objects.create(name="Waited", slug="waited")
    finally:
        release.join()
        other.close()
    assert time.monotonic() - started >= 0.4
    assert Team.objects.filter(slug="waited").exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)  # request_started/finished close or keep the connection
def test_postgresql_keeps_its_connection_between_requests_and_replaces_a_dead_one():
    first = backend_pid()
    between_requests()
    assert backend_pid() == first  # kept, not opened again for each request
    with connections.create_connection(DEFAULT_DB_ALIAS).cursor() as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [first])
    between_requests()
    assert backend_pid() != first  # checked before reuse: the dead one was replaced, no error


@postgresql_only
def test_postgresql_stores_text_as_utf8(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_encoding")
        assert cursor.fetchone()[0] == "UTF8"
    team = Team.objects.create(name="팀 ☕ Café", slug="cafe")
    assert Team.objects.get(pk=team.pk).name == "팀 ☕ Café"


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def between_requests():
    """What Django does when one request ends and the next begins."""
    request_finished.send(sender=None)
    request_started.send(sender=None)


def test_error_reports_hide_the_passwords_in_the_engines_urls(settings):
    password = "hunter2-not-for-reports"
    settings.DATABASE_URL = f"postgres://playground:{password}@db.internal/playground"
    settings.REDIS_URL = f"redis://:{password}@cache.internal:6379/0"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": settings.REDIS_URL}
    safe = get_default_exception_reporter_filter().get_safe_settings()
    assert password not in repr(safe)
    assert safe["DATABASE_URL"] == safe["Q_CLUSTER"] == "********************"
