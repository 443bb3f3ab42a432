"""The tracker: keeps every unfinished generation moving.

It polls in-flight upstream tasks when they are due, several at once, and is also the
safety net for the queue: a queued or ingesting row that no worker took up within
STALL_SECONDS, or whose holder died (its lease ran out), is advanced here.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from . import hosting, ingest, lifecycle, queue, signals, sweep
from .models import FINISHED, RUNNING, UPSTREAM_ACTIVE, Generation, Status

log = logging.getLogger(__name__)


def advance(pk, due=False):
    """Do whatever the generation needs next. True when a step ran.

    With `due`, only when the row is due at the moment of the claim: several trackers hand
    out the same overdue rows, and one that was just polled by another must wait its turn.
    """
    status = Generation.objects.filter(pk=pk).values_list("status", flat=True).first()
    if status == Status.WAITING:
        return bool(queue.admit(Generation.objects.get(pk=pk).team))
    if status in (Status.QUEUED, Status.SUBMITTING):
        return lifecycle.submit(pk, due=due)
    if status in UPSTREAM_ACTIVE:
        return lifecycle.poll(pk, due=due)
    if status == Status.INGESTING:
        return ingest.ingest(pk, due=due)
    return False


def run_until_finished(generation, timeout, pause=0.2):
    """Advance one generation whenever it is due, until it ends; works with or without a
    running tracker and queue, since every step claims the row. False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.status in FINISHED:
            return True
        if generation.status in (Status.WAITING, Status.QUEUED) or generation.next_check_at <= timezone.now():
            advance(generation.pk)
        time.sleep(pause)
    return False


def due_ids(limit):
    """Unfinished generations whose next check has come, most overdue first."""
    return list(
        Generation.objects.filter(status__in=RUNNING, next_check_at__lte=timezone.now())
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


class Tracker:
    def __init__(self, concurrency=None):
        self.concurrency = concurrency or settings.TRACKER_CONCURRENCY
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="tracker")
        self.in_flight = set()
        self.lock = threading.Lock()
        self.steps = 0
        self.sweeping = None
        self.next_sweep_at = time.monotonic()

    def run_once(self):
        """Let out what the teams' lines may send, then hand every due generation to the pool;
        returns how many were handed out."""
        queue.admit_waiting()
        started = 0
        for pk in due_ids(self.concurrency * 4):
            with self.lock:
                if pk in self.in_flight:
                    continue
                self.in_flight.add(pk)
            self.pool.submit(self._step, pk)
            started += 1
        return started

    def _step(self, pk):
        try:
            if advance(pk, due=True):
                self.steps += 1
        except lifecycle.LeaseLost:
            log.info("generation %s was taken over by another worker", pk)
        except Exception:
            # One broken row must not stop the others; its lease expires and it is retried.
            log.exception("advancing generation %s failed", pk)
        finally:
            close_old_connections()
            with self.lock:
                self.in_flight.discard(pk)

    def run_forever(self, stop):
        log.info("tracker started with %s concurrent polls", self.concurrency)
        while not stop.is_set():
            try:
                self.run_once()
                self.sweep_when_due()
            except Exception:
                log.exception("tracker pass failed")
                close_old_connections()
            stop.wait(settings.TRACKER_IDLE_SLEEP)
        self.pool.shutdown(wait=True)

    def sweep_when_due(self):
        """Every SWEEP_INTERVAL_SECONDS, remove the files no row names and the hosted files no
        running generation needs, beside the polls."""
        if time.monotonic() < self.next_sweep_at or (self.sweeping and not self.sweeping.done()):
            return
        self.next_sweep_at = time.monotonic() + settings.SWEEP_INTERVAL_SECONDS
        self.sweeping = self.pool.submit(self._sweep)

    def _sweep(self):
        try:
            sweep.sweep(settings.SWEEP_GRACE_SECONDS)
        except Exception:
            log.exception("sweeping unnamed files failed")
        try:
            hosting.sweep()
        except Exception:
            log.exception("sweeping hosted files failed")
        try:
            signals.swept.send(sender=Tracker)
        except Exception:
            log.exception("a sweep's listener failed")
        finally:
            close_old_connections()
