"""Holding a generation's lease while a step works on it.

A step claims the row for LEASE_SECONDS (see `GenerationManager.claim`) and a heartbeat
renews the claim every third of that while the step runs, however long an upload or a
download takes. So a live holder is never replaced, and the work of a holder that died
(SIGKILL, a lost machine) is taken over by another tracker within LEASE_SECONDS. A step
that hangs past JOB_TIMEOUT is renewed no more, and so is taken over too.
"""

import functools
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Generation

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the row over after this one's lease ran out."""


def renew(pk, token, seconds):
    """Push the lease (and the moment the row is due again) `seconds` ahead; False once lost."""
    until = timezone.now() + timedelta(seconds=seconds)
    return Generation.objects.filter(pk=pk, lease_token=token).update(lease_until=until, next_check_at=until) == 1


def still_held(generation):
    """Raise LeaseLost unless the lease is ours, with the third of it left that a working
    heartbeat keeps: checked before a step does what must not happen twice (send the task)."""
    soon = timezone.now() + timedelta(seconds=settings.LEASE_SECONDS / 3)
    held = Generation.objects.filter(pk=generation.pk, lease_token=generation.lease_token, lease_until__gt=soon)
    if not held.exists():
        raise LeaseLost(generation.pk)


def _beat(pk, token, seconds, stop):
    # The token is the claim's own: once the step releases the row (token "") or another
    # worker claims it, a renewal matches nothing.
    give_up_at = time.monotonic() + settings.JOB_TIMEOUT
    try:
        while not stop.wait(seconds / 3):
            if time.monotonic() > give_up_at:
                log.warning("generation %s held past JOB_TIMEOUT: its lease is left to run out", pk)
                return
            try:
                if not renew(pk, token, seconds):
                    return
            except Exception:  # a dropped connection or a database restart: try again next beat
                log.warning("could not renew the lease on generation %s", pk, exc_info=True)
                connection.close()
    finally:
        connection.close()  # this thread's own connection


def step(statuses):
    """Run the decorated step on a generation only after claiming it, with a heartbeat.

    The step becomes `step(pk, due=False) -> bool`: False when the row was held by someone
    else or had moved on (or, with `due`, is not due yet), True when the step ran.
    """

    def decorate(body):
        @functools.wraps(body)
        def run(pk, due=False):
            seconds = settings.LEASE_SECONDS
            generation = Generation.objects.claim(pk, statuses, seconds, due=due)
            if generation is None:
                return False
            stop = threading.Event()
            beat = threading.Thread(target=_beat, args=(pk, generation.lease_token, seconds, stop), daemon=True)
            beat.start()
            try:
                body(generation)
            finally:
                stop.set()
            return True

        return run

    return decorate
