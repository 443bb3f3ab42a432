"""Waiting for a started batch to finish, from a command line.

The queue workers and the tracker (`manage.py up`, or `qcluster` and `track`) do the work.
The waiter reads the database and also takes each step that is due itself, as `generate
--wait` does (tracker.run_until_finished): every step claims its row first, so with the app
running it only helps, and with nothing running the batch still finishes.
"""

import logging
import time

from django.db import close_old_connections
from django.utils import timezone

from playground.generations import queue, tracker
from playground.generations.leases import LeaseLost
from playground.generations.models import RUNNING, Generation, Status

log = logging.getLogger(__name__)


def until_finished(batch, timeout, pause=0.5):
    """Advance the batch's unfinished generations until none is left; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unfinished = list(
            Generation.objects.filter(pk__in=sent_ids(batch), status__in=RUNNING).values_list(
                "pk", "status", "next_check_at"
            )
        )
        if not unfinished:
            return True
        if any(status == Status.WAITING for _pk, status, _due in unfinished):
            queue.admit(batch.team)
        for pk, status, due in unfinished:
            if status == Status.QUEUED:
                step(pk, due=False)  # sent at once, as a queue worker would
            elif status != Status.WAITING and due and due <= timezone.now():
                step(pk, due=True)
        time.sleep(pause)
    return False


def sent_ids(batch):
    return batch.rows.filter(generation__isnull=False).values_list("generation", flat=True)


def step(pk, due):
    """One step of one generation; a row another worker holds is left to it."""
    try:
        tracker.advance(pk, due=due)
    except LeaseLost:
        pass
    except Exception:
        # As the tracker does: one broken row must not stop the others; it is retried.
        log.exception("advancing generation %s failed", pk)
        close_old_connections()

