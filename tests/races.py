"""Requests that race inside their transactions, for the tests of what a row lock guards.

SQLite has no row locks: Django leaves FOR UPDATE out of the SQL there, and the IMMEDIATE
transaction mode has every transaction take the database's write lock when it begins, so
two transactions never interleave and a race test passes with the lock removed. With
`row_locks_on_sqlite`, SQLite behaves as PostgreSQL does: transactions begin DEFERRED (they
read side by side), and a read FOR UPDATE first takes the write lock, kept to the end of
the transaction as a row lock is. Without the lock, two transactions read side by side and
the second one's write fails (its snapshot is stale), as on PostgreSQL it would overwrite.

`racing` runs requests in threads and pauses each right after its first read of a table
inside its transaction, until the others have read it too: without a lock they all decide
on what they read before any of them writes. A lock keeps the others out, the pause ends
after a moment, and they read what the first one committed.
"""

import threading
from contextlib import contextmanager

from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.db.models.sql.compiler import SQLCompiler

# Writes nothing, but takes SQLite's write lock for the rest of the transaction.
TAKE_WRITE_LOCK = "UPDATE django_migrations SET id = id WHERE 0"
# How long a request waits for the others at its pause; a lock holds them back longer.
PAUSE_SECONDS = 1.0


@contextmanager
def row_locks_on_sqlite(monkeypatch):
    if connection.vendor != "sqlite":
        yield
        return
    execute_sql = SQLCompiler.execute_sql

    def begin_deferred(wrapper):
        wrapper.cursor().execute("BEGIN DEFERRED")

    def locking_execute_sql(compiler, *args, **kwargs):
        if compiler.query.select_for_update and compiler.connection.in_atomic_block:
            with compiler.connection.cursor() as cursor:
                cursor.execute(TAKE_WRITE_LOCK)
        return execute_sql(compiler, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(SQLiteWrapper, "_start_transaction_under_autocommit", begin_deferred)
        patch.setattr(SQLCompiler, "execute_sql", locking_execute_sql)
        yield


def racing(requests, after_reading, monkeypatch):
    """Run each request (a callable) in a thread of its own, all at once, pausing each after
    its first read of the table `after_reading` inside a transaction; returns what each
    returned, or the exception it raised."""
    meet = threading.Barrier(len(requests))
    results = [None] * len(requests)
    quoted = f'"{after_reading}"'

    def run(position, request):
        paused = False

        def pause_after_first_read(execute, sql, params, many, context):
            nonlocal paused
            result = execute(sql, params, many, context)
            reads_it = sql.lstrip().upper().startswith("SELECT") and quoted in sql
            if reads_it and not paused and context["connection"].in_atomic_block:
                paused = True
                try:
                    meet.wait(PAUSE_SECONDS)
                except threading.BrokenBarrierError:  # the others are held back by a lock
                    pass
            return result

        try:
            with connection.execute_wrapper(pause_after_first_read):
                results[position] = request()
        except Exception as error:  # noqa: BLE001 - the test says what it expected
            results[position] = error
        finally:
            connection.close()

    with row_locks_on_sqlite(monkeypatch):
        threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return results
