"""Each step that moves a generation along its states, callable on its own.

queued → submitting → pending → processing → ingesting → completed,
or failed / expired / cancelled. Every step first claims the row's lease, so it is
safe to call from a queue worker, a tracker or the command line at the same time.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from playground.evolink import errors

from .models import UPSTREAM_ACTIVE, Generation, Status
from .tasks import enqueue_ingest, enqueue_submit
from .upstream import client_for

log = logging.getLogger(__name__)

# Result links live 24 hours; a task still unfinished by then never will be.
TASK_DEADLINE = timedelta(hours=24)


def later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def backoff_seconds(failures):
    return min(settings.TRACKER_MIN_INTERVAL * (2**failures), 300)


def update(generation, **fields):
    """Write fields to the row and the object alike."""
    for name, value in fields.items():
        setattr(generation, name, value)
    fields["updated_at"] = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(**fields)


def finish(generation, status, error=None, message=""):
    update(
        generation,
        status=status,
        error_code=getattr(error, "code", "") or "",
        error_message=message or (error.message if error else ""),
        finished_at=timezone.now(),
        lease_until=None,
        next_check_at=None,
    )
    log.info("generation %s %s %s", generation.public_id, status, generation.error_code)


def next_poll_delay(generation):
    """Seconds until the next poll, shaped by the service's `estimated_time`.

    Far from the estimate we poll at half the remaining time (capped), close to it
    and past it at the minimum interval.
    """
    floor, ceiling = settings.TRACKER_MIN_INTERVAL, settings.TRACKER_MAX_INTERVAL
    left = generation.seconds_left
    if left is None:
        return floor
    return max(floor, min(ceiling, left / 2))


# -- submit ------------------------------------------------------------------------


def submit(pk):
    """Send a queued generation upstream. True when this call did the work.

    1. Claim the row; a row someone else holds, or that has moved on, is left alone.
    2. Create the upstream task and record its id, estimate and reservation.
    3. A retryable fault puts the row back in the queue with backoff; after
       MAX_ATTEMPTS, or on a permanent error, the generation fails with the reason.
    """
    if not Generation.objects.claim(pk, (Status.QUEUED, Status.SUBMITTING), settings.LEASE_SECONDS):
        return False
    generation = Generation.objects.select_related("team").get(pk=pk)
    update(generation, status=Status.SUBMITTING, attempts=generation.attempts + 1)
    try:
        task = client_for(generation.team).create_generation(
            generation.prompt,
            size=generation.size,
            n=generation.n,
            image_urls=generation.image_urls,
            mask_url=generation.mask_url or None,
        )
    except errors.EvoLinkError as error:
        if error.retryable and generation.attempts < settings.MAX_ATTEMPTS:
            update(
                generation,
                status=Status.QUEUED,
                error_message=error.message,
                lease_until=None,
                next_check_at=later(backoff_seconds(generation.attempts)),
            )
        else:
            finish(generation, Status.FAILED, error)
        return True
    generation.submitted_at = timezone.now()
    generation.estimated_seconds = task.estimated_time
    update(
        generation,
        status=Status.PENDING,
        task_id=task.id,
        progress=task.progress,
        estimated_seconds=task.estimated_time,
        credits_reserved=task.credits_reserved,
        submitted_at=generation.submitted_at,
        error_message="",
        attempts=0,
        lease_until=None,
        next_check_at=later(next_poll_delay(generation)),
    )
    return True


# -- poll ----------------------------------------------------------------------------


def poll(pk):
    """Claim an in-flight generation and poll it once. True when this call polled."""
    if not Generation.objects.claim(pk, UPSTREAM_ACTIVE, settings.POLL_LEASE_SECONDS):
        return False
    poll_once(Generation.objects.select_related("team").get(pk=pk))
    return True


def poll_once(generation):
    """Ask the service about one in-flight task and record the answer.

    Returns True when the generation left the upstream states (to ingesting or an end).
    """
    try:
        task = client_for(generation.team, polling=True).get_task(generation.task_id)
    except errors.NotFound as error:
        finish(generation, Status.EXPIRED, error)
        return True
    except errors.EvoLinkError as error:
        return _poll_failed(generation, error)

    if task.status == "completed":
        update(
            generation,
            status=Status.INGESTING,
            progress=100,
            result_urls=task.results,
            upstream_completed_at=timezone.now(),
            poll_failures=0,
            attempts=0,
            lease_until=None,
            next_check_at=later(settings.STALL_SECONDS),
        )
        enqueue_ingest(generation.pk)
        return True
    if task.status in ("failed", "cancelled"):
        status = Status.CANCELLED if task.status == "cancelled" else Status.FAILED
        finish(generation, status, task.error)
        return True

    update(
        generation,
        status=Status.PROCESSING if task.status == "processing" else Status.PENDING,
        progress=max(generation.progress, task.progress),
        poll_failures=0,
        lease_until=None,
        next_check_at=later(next_poll_delay(generation)),
    )
    return False


def _poll_failed(generation, error):
    """A poll that did not get an answer: back off, and give up only at the deadline."""
    submitted = generation.submitted_at or generation.created_at
    if not error.retryable and generation.poll_failures >= 3:
        finish(generation, Status.FAILED, error)
        return True
    if timezone.now() - submitted > TASK_DEADLINE:
        finish(generation, Status.EXPIRED, error, _("The service gave no result within 24 hours."))
        return True
    failures = generation.poll_failures + 1
    update(
        generation,
        poll_failures=failures,
        lease_until=None,
        next_check_at=later(backoff_seconds(failures)),
    )
    log.warning("poll of %s failed (%s): %s", generation.public_id, error.code, error.message)
    return False


@transaction.atomic
def create(team, user, *, prompt, size, n):
    generation = Generation.objects.create(
        team=team,
        created_by=user,
        prompt=prompt,
        size=size,
        n=n,
        next_check_at=later(settings.STALL_SECONDS),
    )
    enqueue_submit(generation.pk)
    return generation
