"""Settings read from environment variables, for the app's settings and the sandbox's alike.

A variable that is unset or empty takes the default; one that cannot be read as what it
should be stops the start with a sentence naming it. Only the standard library and
Django's ImproperlyConfigured: the sandbox imports this module too.
"""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def env(name, default=""):
    return os.environ.get(name) or default


def env_bool(name, default=False):
    raw = env(name).strip()
    if not raw:
        return default
    if raw.lower() not in TRUE + FALSE:
        raise ImproperlyConfigured(f"{name} must be on or off (1 or 0, true or false, yes or no), not {raw!r}.")
    return raw.lower() in TRUE


def env_int(name, default):
    return _parsed(name, default, int, "a whole number")


def env_float(name, default):
    return _parsed(name, default, float, "a number")


def env_list(name, default=""):
    """A comma-separated list, its items stripped and empty ones left out."""
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def _parsed(name, default, kind, what):
    raw = env(name).strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, not {raw!r}.") from None
