"""Keyed creates: a create sent again with the same Idempotency-Key answers the same task.

As the vendor's newest client expects: for SANDBOX_IDEMPOTENCY_SECONDS (24 hours) a key
and the same body give back the task the first request made, marked as a replay; the
key with another body is refused with 409. Keys belong to the account that sent them.
Only a create that made a task is remembered: a refused one can be sent again.
"""

import hashlib
import json
import threading
import time

from django.conf import settings

from . import store, tasks
from .errors import ApiError

MAX_KEY = 255

# Striped: a key waits only for creates whose key shares its stripe, and the locks never grow.
_locks = [threading.Lock() for _ in range(64)]


def clean_key(key):
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ApiError(
            400, f"Idempotency-Key must be 1 to {MAX_KEY} characters.", param="Idempotency-Key"
        )
    return key


def fingerprint(*parts):
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def body_fingerprint(body):
    # Parsed, so spacing and key order do not make two equal bodies differ.
    return fingerprint(json.dumps(body, sort_keys=True, separators=(",", ":")))


def path(account, key):
    return store.folder("idempotency") / f"{fingerprint(account, key)}.json"


def create_once(account, key, body, create):
    """(task, replayed): the task this key already made from this body, else create(body)'s.

    The key is held while its create runs, so a second request with it waits for the first.
    """
    name = fingerprint(account, key)
    with _locks[int(name[:8], 16) % len(_locks)]:
        task_id = remembered(account, key, body)
        if task_id is not None:
            return tasks.load(task_id), True
        task = create(body)
        remember(account, key, body, task["id"])
    return task, False


def remembered(account, key, body):
    """The task id an earlier create with this key made, or None; ApiError(409) on another body."""
    entry = store.read_json(path(account, key))
    if entry is None or entry["created"] + settings.SANDBOX_IDEMPOTENCY_SECONDS <= time.time():
        return None
    if entry["body"] != body_fingerprint(body):
        raise ApiError(
            409,
            "This Idempotency-Key was already used with a different request body.",
            param="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return entry["task_id"]


def remember(account, key, body, task_id):
    entry = {"body": body_fingerprint(body), "task_id": task_id, "created": time.time()}
    store.write_json(path(account, key), entry)
