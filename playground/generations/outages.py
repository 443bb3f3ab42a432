"""Writes that wait for the database to come back instead of being dropped.

The database can be away for a few seconds: SQLite locked by another writer for longer
than its busy timeout, PostgreSQL restarting. A step that dropped the write recording
what the service just did (created a task, served a result link) would have it done
again by the worker that takes the row over: a second task charged, a link read twice.
So those writes are tried again until the database answers. They name the step's lease
(see `lifecycle.update`), so a write that lands late still lands once or not at all.
"""

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

# What a database that is briefly away raises: SQLite's "database is locked", a dropped
# or refused PostgreSQL connection.
UNAVAILABLE = (OperationalError, InterfaceError)
PAUSE_SECONDS = 0.25


def until_written(write):
    """`write()`'s result, tried again while the database is unavailable, for at most
    JOB_TIMEOUT (how long a step may run at all)."""
    give_up_at = time.monotonic() + settings.JOB_TIMEOUT
    warned = False
    while True:
        try:
            return write()
        except UNAVAILABLE as exc:
            # Inside a transaction the whole transaction is lost: its caller must start over.
            if connection.in_atomic_block or time.monotonic() > give_up_at:
                raise
            if not warned:
                log.warning("the database is unavailable (%s): waiting to write", exc)
                warned = True
        # A connection the server dropped (PostgreSQL restarted) is replaced; a locked
        # SQLite connection is still fine and kept.
        connection.close_if_unusable_or_obsolete()
        time.sleep(PAUSE_SECONDS)
