"""A task's `callback_url`, called by the app itself once the generation has ended.

As the vendor does it: a POST whose body is the task as `GET /v1/tasks/{id}` answers it,
10 s to answer, any 2xx is delivered, anything else is tried again after 1, 2 and 4 s
(GATEWAY_CALLBACK_RETRY_DELAYS). Sent through the guarded fetch (https to public
addresses only), redirects not followed, and signed:

    X-Playground-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">

with the token's callback secret (its page shows it), so a receiver can tell the app's
calls from anyone else's and refuse old ones by `t`.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from playground import outbound
from playground.generations import signals
from playground.generations.models import Generation
from playground.teams import tokens

from . import replies
from .models import Callback

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Playground-Signature"
TIMEOUT_SECONDS = 10
# A callback not called this long after its generation ended (or its retry was due) lost its job.
LOST_AFTER = timedelta(minutes=10)


@receiver(signals.finished)
def schedule(sender, generation, **kwargs):
    if Callback.objects.filter(generation_id=generation.pk, delivered_at__isnull=True).exists():
        enqueue(generation.pk)


@receiver(signals.swept)
def take_up_lost(sender, **kwargs):
    """Callbacks whose job was lost (a worker killed, the broker away): their generation ended
    a while ago, and none is delivered, given up, held or waiting for its delay."""
    now = timezone.now()
    lost = Callback.objects.filter(
        delivered_at__isnull=True,
        given_up_at__isnull=True,
        generation__finished_at__lt=now - LOST_AFTER,
    ).exclude(claimed_until__gt=now).exclude(due_at__gt=now - LOST_AFTER)
    for generation_pk in lost.values_list("generation_id", flat=True)[:100]:
        enqueue(generation_pk)


def enqueue(generation_pk):
    transaction.on_commit(
        lambda: async_task("playground.gateway.callbacks.deliver", generation_pk, group="callbacks"), robust=True
    )


def signature(secret, timestamp, body):
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def claim(generation_pk):
    """The callback to call now, held while this attempt runs; None when another worker holds
    it, or it was delivered or given up."""
    now = timezone.now()
    hold = timedelta(seconds=max(settings.GATEWAY_CALLBACK_RETRY_DELAYS, default=0) + TIMEOUT_SECONDS + 30)
    free = Callback.objects.filter(generation_id=generation_pk, delivered_at__isnull=True, given_up_at__isnull=True)
    free = free.exclude(claimed_until__gt=now)
    if free.update(claimed_until=now + hold) != 1:
        return None
    return Callback.objects.select_related("token").get(generation_id=generation_pk)


def deliver(generation_pk):
    """One attempt at the task's callback URL; a refused one queues the next, after the
    vendor's delay, until the retries are spent. True once delivered.

    One attempt per job, so a receiver that never answers holds a queue worker for one
    timeout at a time, and the generations' own jobs run in between.
    """
    callback = claim(generation_pk)
    if callback is None:
        return False
    if callback.token is None:  # gone with its holder's account: nothing to sign with
        callback.given_up_at, callback.claimed_until = timezone.now(), None
        callback.save(update_fields=["given_up_at", "claimed_until"])
        log.warning("callback of generation %s given up: its token is gone", generation_pk)
        return False
    delays = settings.GATEWAY_CALLBACK_RETRY_DELAYS
    if callback.attempts:  # a retry: wait out what is left of its delay
        time.sleep(max(0, (callback.due_at - timezone.now()).total_seconds()))
    generation = Generation.objects.select_related("team").prefetch_related("images").get(pk=generation_pk)
    body = json.dumps(replies.task(generation, callback.base_url)).encode()
    secret = tokens.callback_secret(callback.token)
    private = settings.GATEWAY_ALLOW_PRIVATE_URLS
    with outbound.client(allow_private=private, timeout=TIMEOUT_SECONDS, deadline=TIMEOUT_SECONDS) as http:
        status = post(http, callback.url, body, secret)
    callback.attempts, callback.last_status, callback.claimed_until = callback.attempts + 1, status, None
    if status is not None and 200 <= status < 300:
        callback.delivered_at = timezone.now()
    elif callback.attempts > len(delays):
        callback.given_up_at = timezone.now()
        log.warning("callback of %s not delivered after %s attempts", generation.public_id, callback.attempts)
    else:
        callback.due_at = timezone.now() + timedelta(seconds=delays[callback.attempts - 1])
    callback.save(update_fields=["attempts", "last_status", "delivered_at", "given_up_at", "claimed_until", "due_at"])
    if callback.due_at and not (callback.delivered_at or callback.given_up_at):
        enqueue(generation_pk)  # once the row says so: the next attempt claims it
    return callback.delivered_at is not None


def post(http, url, body, secret):
    """The receiver's HTTP status, or None when it gave none (refused, unreachable, too slow)."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, int(time.time()), body)}
    try:
        # Only the status counts: the reply's body is left unread, however long (or endless) it is.
        with http.stream("POST", url, content=body, headers=headers, follow_redirects=False) as reply:
            return reply.status_code
    except (outbound.Refused, outbound.TooLarge) as exc:
        log.info("callback refused: %s", exc)
    except Exception as exc:  # httpx's: a connection refused or dropped, a timeout
        log.info("callback not answered: %s", type(exc).__name__)
    return None
