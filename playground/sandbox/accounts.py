"""The accounts the sandbox knows: one per API key, told apart by a fingerprint of the key.

Files and keyed creates belong to the account whose key made them, so each key has its
own file quota, as upstream's accounts do.
"""

import hashlib
import hmac

from django.conf import settings


def keys():
    return [settings.SANDBOX_API_KEY, *settings.SANDBOX_EXTRA_API_KEYS]


def bearer_key(request):
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def has_valid_key(request):
    key = bearer_key(request)
    if key is None:
        return False
    # Every key is compared, so the time taken does not tell which one nearly matched.
    matches = [hmac.compare_digest(key.encode(), known.encode()) for known in keys()]
    return any(matches)


def account(request):
    """The fingerprint of the request's key: what files and keyed creates are filed under."""
    return hashlib.sha256((bearer_key(request) or "").encode()).hexdigest()[:16]
