"""Idempotency-Key on creates, honoured for 24 hours per token (see evolink/CONTRACT.md):
the same key and body answer the task the first create made (`Idempotent-Replayed: true`),
the same key with another body is a 409, as the sandbox answers."""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from playground.evolink.contract import IDEMPOTENCY_HEADER, IDEMPOTENCY_SECONDS, RUN_ID_HEADER

from .errors import ApiError, invalid
from .models import KeyedCreate

MAX_KEY = 255


def key_of(request):
    """The request's key (the vendor's client also sends it as X-Evo-Run-Id), or None."""
    key = request.headers.get(IDEMPOTENCY_HEADER) or request.headers.get(RUN_ID_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise invalid(None, f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_KEY} printable characters.")
    return key


def digest(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def earlier(token, key, body_digest):
    """The generation an earlier create with this key made, or None; a 409 for another body."""
    if key is None:
        return None
    live_since = timezone.now() - timedelta(seconds=IDEMPOTENCY_SECONDS)
    found = KeyedCreate.objects.filter(token=token, key=key).select_related("generation").first()
    if found is None:
        return None
    if found.created_at < live_since:
        found.delete()  # past 24 hours the key is free again
        return None
    if found.body_digest != body_digest:
        raise ApiError(
            409,
            f"This {IDEMPOTENCY_HEADER} was used with another request body: use a new key for a new request.",
            code="idempotency_key_reused",
        )
    return found.generation


def record(token, key, body_digest, generation):
    """Keep the key with the generation; inside the create's transaction, so a second create
    with the key waits for this one and then answers its task."""
    if key is None:
        return
    try:
        with transaction.atomic():
            KeyedCreate.objects.create(token=token, key=key, body_digest=body_digest, generation=generation)
    except IntegrityError:
        raise Replayed from None


class Replayed(Exception):
    """Another create with this key won the race: its task is the answer."""
