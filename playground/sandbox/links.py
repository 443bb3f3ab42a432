"""Signed, expiring result links. The key lives in the data dir so links survive a restart."""

import functools
import hashlib
import hmac
import os
import secrets
import time

from django.conf import settings

from . import store


@functools.cache
def secret():
    path = store.folder() / "link-secret"
    if not path.exists():
        # Write aside, then link into place: whoever links first wins, and
        # nobody ever reads a half-written key.
        candidate = path.with_name(f".link-secret-{secrets.token_hex(4)}")
        candidate.write_text(secrets.token_hex(32))
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_bytes().strip()


def signature(task_id, index, expires):
    message = f"{task_id}/{index}/{expires}".encode()
    return hmac.new(secret(), message, hashlib.sha256).hexdigest()


def result_url(task_id, index, expires):
    sig = signature(task_id, index, expires)
    return f"{settings.SANDBOX_PUBLIC_URL}/results/{task_id}/{index}.png?expires={expires}&signature={sig}"


def check(task_id, index, expires, sig):
    """None when the link is good, else (error code, message)."""
    if not expires.isdigit() or not hmac.compare_digest(signature(task_id, index, expires), sig):
        return "invalid_signature", "The link's signature is not valid."
    if int(expires) <= time.time():
        return "link_expired", "The link has expired."
    return None
