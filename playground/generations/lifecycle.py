"""Each step that moves a generation along its states, callable on its own.

queued → submitting → pending → processing → ingesting → completed,
or failed / expired / cancelled. Every step first claims the row's lease, so it is
safe to call from a queue worker, a tracker or the command line at the same time.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from playground.evolink import errors
from playground.evolink.client import body_fingerprint, create_body, new_idempotency_key
from playground.evolink.contract import FINISHED_STATUSES
from playground.log_redaction import redact
from playground.teams.upstream import account_for, client_from

from . import credits, hosting, leases, queue, signals, totals
from .accounts import generation_account
from .leases import LeaseLost
from .models import UPSTREAM_ACTIVE, Generation, GenerationReference, Lane, Mode, Reference, Status
from .outages import until_written
from .references import as_png, mask_as_sent
from .references import store as store_reference
from .tasks import enqueue_ingest, enqueue_submit

log = logging.getLogger(__name__)

# Result links live 24 hours; a task still unfinished by then never will be.
TASK_DEADLINE = timedelta(hours=24)


def later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def backoff_seconds(failures, retry_after=None):
    if retry_after is not None:
        return max(settings.TRACKER_MIN_INTERVAL, retry_after)
    return min(settings.TRACKER_MIN_INTERVAL * (2**failures), 300)


def update(generation, **fields):
    """Write fields to the row and the object alike, only while holding the lease."""
    fields["updated_at"] = timezone.now()
    if fields.get("status", generation.status) != generation.status:
        fields["timeline"] = [*generation.timeline, [fields["status"], fields["updated_at"].isoformat()]]
    held = Generation.objects.filter(pk=generation.pk, lease_token=generation.lease_token)
    # A charge or a count of images changes the team's running totals, in the same transaction.
    write = (lambda: totals.write(held, fields)) if totals.counts_in(fields) else (lambda: held.update(**fields))
    if until_written(write) != 1:
        raise LeaseLost(generation.pk)
    for name, value in fields.items():
        setattr(generation, name, value)


def release(generation, **fields):
    """The last write of a step: record `fields` and give the lease up."""
    update(generation, lease_until=None, lease_token="", **fields)


def source_text(message):
    """A message as stored: in the source language, which pages translate when they show it.

    Every member reads it, so a callback's token that an upstream error echoed is cut out.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return redact(str(message))


def finish(generation, status, error=None, message="", admit=True, **fields):
    """End the generation; then, unless `admit` is False, let the team's line move on."""
    release(
        generation,
        **fields,
        status=status,
        credits_charged=credits.charge(generation),
        images_delivered=generation.images.count(),
        account_encrypted="",
        error_code=getattr(error, "code", "") or "",
        error_message=source_text(message or (error.message if error else "")),
        finished_at=timezone.now(),
        next_check_at=None,
    )
    log.info("generation %s %s %s", generation.public_id, status, generation.error_code)
    hosting.release_finished(generation)  # its hosted files count against the account's quota
    signals.finished.send(sender=Generation, generation=generation)
    if admit:
        queue.admit_after_end(generation.team)


def gave_up(generation):
    """Steps that crash (not just fail) still count attempts; past the cap the row ends."""
    if generation.attempts < settings.MAX_ATTEMPTS:
        return False
    message = generation.error_message or _("The generation could not be completed after several attempts.")
    finish(generation, Status.FAILED, message=message)
    return True


def next_poll_delay(generation):
    """Seconds until the next poll, shaped by the service's `estimated_time`.

    Far from the estimate we poll at a third of the remaining time (capped), close to it
    and past it at the minimum interval.
    """
    floor, ceiling = settings.TRACKER_MIN_INTERVAL, settings.TRACKER_MAX_INTERVAL
    left = generation.seconds_left
    if left is None:
        return floor
    return max(floor, min(ceiling, left / 3))


# -- submit ------------------------------------------------------------------------


@leases.step((Status.QUEUED, Status.SUBMITTING))
def submit(generation):
    """Send a queued generation upstream. True when this call did the work.

    1. Claim the row; a row someone else holds, or that has moved on, is left alone.
       A queued row starts a new submit attempt; a row still `submitting` is one whose
       last submit stopped half-way (its worker died), which this call continues.
    2. Host the inputs, fix the attempt's Idempotency-Key on the row (see `attempt_key`),
       create the upstream task and record its id, estimate, reservation and request id.
    3. A retryable fault puts the row back in the queue with backoff; after
       MAX_ATTEMPTS, or on a permanent error, the generation fails with the reason.
    """
    if gave_up(generation):
        return
    continuing = generation.status == Status.SUBMITTING
    if not continuing and queue.held(generation.team):
        # The upstream asked the team to slow down: nothing of its is sent before then.
        release(generation, next_check_at=generation.team.send_after)
        return
    new_attempt = {} if continuing else {"idempotency_key": "", "idempotency_body": ""}
    update(generation, status=Status.SUBMITTING, attempts=generation.attempts + 1, **new_attempt)
    try:
        account = account_for(generation.team)
        client = client_from(account)
        image_urls, mask_url = host_inputs(generation, client, account)
        body = create_body(
            generation.prompt,
            size=generation.size,
            n=generation.n,
            image_urls=image_urls,
            mask_url=mask_url or None,
            callback_url=callback_for(generation),
        )
        key, fingerprint = attempt_key(generation, body), body_fingerprint(body)
        # Written (under the lease) before the create goes out: whoever continues this attempt uses it.
        update(
            generation, idempotency_key=key, idempotency_body=fingerprint, image_urls=image_urls, mask_url=mask_url
        )
        leases.still_held(generation)  # a task sent twice is charged twice
        task = client.create_task(body, idempotency_key=key)
    except errors.EvoLinkError as error:
        if isinstance(error, errors.RateLimited):
            queue.slow_down(generation.team, backoff_seconds(generation.attempts, error.retry_after))
        if error.retryable and generation.attempts < settings.MAX_ATTEMPTS:
            release(
                generation,
                status=Status.QUEUED,
                error_message=source_text(error.message),
                next_check_at=later(backoff_seconds(generation.attempts, error.retry_after)),
            )
        else:
            finish(generation, Status.FAILED, error)
        return
    submitted_at = timezone.now()
    generation.estimated_seconds, generation.submitted_at = task.estimated_time, submitted_at
    release(
        generation,
        status=Status.PENDING,
        image_urls=image_urls,
        mask_url=mask_url,
        task_id=task.id,
        request_id=task.request_id,
        account_encrypted=account.sealed(),
        progress=task.progress,
        estimated_seconds=task.estimated_time,
        credits_reserved=task.credits_reserved,
        submitted_at=submitted_at,
        error_message="",
        attempts=0,
        next_check_at=later(next_poll_delay(generation)),
    )


def attempt_key(generation, body):
    """The Idempotency-Key of this create (see CONTRACT.md, "Keyed creates").

    One key per submit attempt, the same across the client's own retries of it (after a
    429, 502 or 503). A submit attempt starts each time a queued row is submitted: the
    first time, and again after a retryable fault put it back in the queue. Such a fault
    means the create was refused or never sent (one that may have arrived unanswered,
    `TaskUnconfirmed`, is never sent again: the generation fails), so the new attempt
    gets a new key, and `submit` clears the old one when the attempt starts.

    The one create sent again under the same key is the one whose attempt goes on: a
    worker that died mid-submit leaves the row `submitting` with the key it stored before
    its create went out, perhaps received. The submit that takes the row over continues
    that attempt and, when the request body (every field, the callback URL included)
    digests to the one stored with the key, sends it under that key: a service that
    honours keys answers the first task instead of starting, and billing, a second one.
    A body that differs (a hosted file uploaded again near its expiry, another callback
    address) gets a new key, since the old key with another body is refused (409).
    """
    if generation.idempotency_key and generation.idempotency_body == body_fingerprint(body):
        return generation.idempotency_key
    return new_idempotency_key()


def host_inputs(generation, client, account):
    """The URLs of the references and mask, uploading those not hosted (or about to expire).

    However long the uploads take, the lease's heartbeat keeps other trackers from taking
    the row over and sending the task twice.
    """
    image_urls = [hosting.hosted_url(reference, client, account) for reference in generation.ordered_references()]
    mask_url = hosting.hosted_url(generation.mask, client, account) if generation.mask else ""
    return image_urls, mask_url


# -- poll ----------------------------------------------------------------------------


@leases.step(UPSTREAM_ACTIVE)
def poll(generation):
    """Claim an in-flight generation and poll it once. True when this call polled."""
    poll_once(generation)


def poll_once(generation):
    """Ask the service about one in-flight task and record the answer.

    Returns True when the generation left the upstream states (to ingesting or an end).
    """
    if timezone.now() - (generation.submitted_at or generation.created_at) > TASK_DEADLINE:
        finish(generation, Status.EXPIRED, message=_("The service gave no result within 24 hours."))
        return True
    try:
        task = client_from(generation_account(generation), polling=True).get_task(generation.task_id)
    except errors.NotFound as error:
        finish(generation, Status.EXPIRED, error)
        return True
    except errors.EvoLinkError as error:
        return _poll_failed(generation, error)

    if not generation.request_id and task.request_id:
        generation.request_id = task.request_id  # written with this poll's answer
    if task.status in FINISHED_STATUSES and task.credits_used is not None:
        generation.credits_charged = task.credits_used  # the service's own charge (see credits)
    if task.status == "completed":
        return _completed(generation, task)
    if task.status in ("failed", "cancelled"):
        status = Status.CANCELLED if task.status == "cancelled" else Status.FAILED
        finish(generation, status, task.error, request_id=generation.request_id)
        return True
    release(
        generation,
        request_id=generation.request_id,
        status=Status.PROCESSING if task.status == "processing" else Status.PENDING,
        progress=max(generation.progress, task.progress),
        poll_failures=0,
        next_check_at=later(next_poll_delay(generation)),
    )
    return False


def _completed(generation, task):
    if not task.results:
        finish(generation, Status.FAILED, errors.task_failure("generation_failed_no_content"))
        return True
    release(
        generation,
        status=Status.INGESTING,
        progress=100,
        result_urls=task.results,
        request_id=generation.request_id,
        credits_charged=generation.credits_charged,
        upstream_completed_at=timezone.now(),
        poll_failures=0,
        attempts=0,
        next_check_at=later(settings.STALL_SECONDS),
    )
    enqueue_ingest(generation.pk)
    queue.admit_after_end(generation.team)  # done upstream: no longer in flight
    return True


def _poll_failed(generation, error):
    """A poll that did not get an answer: back off and ask again; a refusal ends it.

    A 500 is no refusal: it tells nothing of the task, which goes on (and is billed) upstream.
    """
    passing = error.retryable or isinstance(error, errors.ServerError)
    if not passing and generation.poll_failures >= 3:
        finish(generation, Status.FAILED, error)
        return True
    failures = generation.poll_failures + 1
    release(
        generation,
        poll_failures=failures,
        next_check_at=later(backoff_seconds(failures, error.retry_after)),
    )
    log.warning("poll of %s failed (%s): %s", generation.public_id, error.code, error.message)
    return False


def callback_for(generation):
    """Where the service reports the task's end: the requester's own URL, else ours when
    the deployment has a public HTTPS address. Either way polling goes on."""
    if generation.callback_url:
        return generation.callback_url
    if not settings.CALLBACK_BASE_URL:
        return None
    path = reverse("evolink-callback", args=[generation.callback_token])
    return settings.CALLBACK_BASE_URL.rstrip("/") + path


@transaction.atomic
def create(
    team,
    user,
    *,
    prompt,
    size,
    n,
    references=(),
    images=(),
    mask=None,
    strict_mask=True,
    callback_url="",
    token=None,
    lane=Lane.INTERACTIVE,
    batch=None,
    covered=False,
):
    """Store a request checked by GenerationForm, with its new reference files, and queue it.

    The budgets are checked (and the credits reserved) before any file is written;
    `credits.BudgetExceeded` leaves nothing behind. A `token` (a personal token, when a
    script asked through the gateway) is kept on the generation and its monthly cap applies.
    Under the team's lock the budgets took, it is sent at once when the team has room and
    no one is ahead of it in `lane`; else it waits in the team's line (see queue.py).
    `covered`: the caller has checked, in this transaction and under the team's lock, that
    the budgets cover this generation and the others it makes with it (a batch).
    """
    reserved = credits.estimate(n) if covered else credits.reserve(team, user, n, token=token)
    goes_now = queue.may_go_now(team, lane)
    status = Status.QUEUED if goes_now else Status.WAITING
    now = timezone.now()
    chosen = [*references, *(store_reference(team, user, checked) for checked in images)]
    mask_reference = None
    if mask:
        chosen = [as_png(team, user, chosen[0])]
        # A re-run's mask is already in storage (and sent as masks are sent now); a new one is stored now.
        if isinstance(mask, Reference):
            mask_reference = mask_as_sent(team, user, mask)
        else:
            mask_reference = store_reference(team, user, mask, Reference.Kind.MASK)
    generation = Generation.objects.create(
        team=team,
        created_by=user,
        token=token,
        prompt=prompt,
        size=size,
        n=n,
        mode=Mode.EDIT if mask_reference else Mode.IMAGE if chosen else Mode.TEXT,
        mask=mask_reference,
        strict_mask=strict_mask,
        callback_url=callback_url,
        credits_estimated=reserved,
        status=status,
        lane=lane,
        batch=batch,
        admitted_at=now if goes_now else None,
        timeline=[[status, now.isoformat()]],
        next_check_at=later(settings.STALL_SECONDS) if goes_now else None,
    )
    totals.created(generation)
    GenerationReference.objects.bulk_create(
        GenerationReference(generation=generation, reference=reference, position=position)
        for position, reference in enumerate(chosen)
    )
    if goes_now:
        enqueue_submit(generation.pk)
    return generation
