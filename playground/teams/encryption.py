"""Encryption at rest for secrets kept in the database (the teams' API keys).

Fernet keys come from ENCRYPTION_KEYS (comma-separated, newest first) or, on the
embedded default, from a key file beside the database. Every key listed can decrypt;
the first encrypts. To rotate: put a new key first, run `manage.py rotate_encryption_key`
(which re-encrypts every stored secret with it), then drop the old keys.
"""

import os
import time
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables


class UnreadableSecret(Exception):
    """The stored value was encrypted with a key that is no longer configured."""


def key_file():
    return settings.DATA_DIR / "encryption_keys"


def configured_keys():
    """The Fernet keys, newest first. The embedded default makes its key file on first use.

    Processes starting at once may all find no file: exactly one creates it (O_EXCL) and
    the others read its key, waiting the moment it takes to be written.
    """
    if settings.ENCRYPTION_KEYS:
        return list(settings.ENCRYPTION_KEYS)
    path = key_file()
    if not path.exists():
        new_key = Fernet.generate_key().decode()
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass  # another process made it first: use its key
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(new_key + "\n")
                file.flush()
                os.fsync(file.fileno())
    deadline = time.monotonic() + 5
    while not (keys := [line.strip() for line in path.read_text().splitlines() if line.strip()]):
        if time.monotonic() > deadline:
            raise ImproperlyConfigured(f"The encryption key file {path} holds no key.")
        time.sleep(0.02)
    return keys


@lru_cache(maxsize=4)
def _fernet(keys):
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        # Never echo the key material itself.
        raise ImproperlyConfigured("ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes).") from None


def fernet():
    return _fernet(tuple(configured_keys()))


@sensitive_variables("plain")
def encrypt(plain):
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token):
    return _unsealed(fernet().decrypt, token)


def rotate(token):
    """The same secret, encrypted with the newest key."""
    return _unsealed(fernet().rotate, token)


@sensitive_variables()
def _unsealed(operation, token):
    try:
        return operation(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("A stored secret cannot be decrypted with the configured keys.") from None
