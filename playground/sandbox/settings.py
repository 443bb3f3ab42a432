"""Settings of the EvoLink sandbox: a tiny Django project of its own.

Everything is read from environment variables so the sandbox runs with nothing
set; `python -m playground.sandbox` turns its command-line flags into the same
variables before Django reads this module.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from playground.env import env, env_bool, env_float, env_int, env_list


def url_host(host):
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


# Nothing is signed with Django's key: result links use a secret kept in the data dir.
SECRET_KEY = "evolink-sandbox-has-no-sessions"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",  # adds Content-Length, so connections stay open
    "playground.sandbox.middleware.SandboxMiddleware",
]
ROOT_URLCONF = "playground.sandbox.urls"
DATABASES = {}
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
APPEND_SLASH = False
# Request lines come from django.server (one per request); with DEBUG off
# Django would only mail a crash's traceback, so print it instead.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
# A 10 MB image sent as base64 inside JSON is about 13.4 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

SANDBOX_HOST = env("SANDBOX_HOST", "127.0.0.1")
SANDBOX_PORT = env_int("SANDBOX_PORT", 8001)
SANDBOX_API_KEY = env("SANDBOX_API_KEY", "sandbox-key")
SANDBOX_TASK_SECONDS = env_float("SANDBOX_TASK_SECONDS", 8.0)
SANDBOX_DATA_DIR = Path(env("SANDBOX_DATA_DIR", "var/sandbox")).resolve()
SANDBOX_PUBLIC_URL = env(
    "SANDBOX_PUBLIC_URL", f"http://{url_host(SANDBOX_HOST)}:{SANDBOX_PORT}"
).rstrip("/")
SANDBOX_LINK_TTL = env_float("SANDBOX_LINK_TTL", 86400.0)
SANDBOX_MAX_PROMPT = env_int("SANDBOX_MAX_PROMPT", 2000)
SANDBOX_CREDITS_PER_IMAGE = env_float("SANDBOX_CREDITS_PER_IMAGE", 1.5)
SANDBOX_CREDITS = env_float("SANDBOX_CREDITS", 10000.0)
SANDBOX_MAX_FILES = env_int("SANDBOX_MAX_FILES", 100)
SANDBOX_FAULTS = env("SANDBOX_FAULTS", "")
# Off by default, as upstream: no fetching from or calling back to private
# addresses. Local development and tests turn it on to use loopback servers.
SANDBOX_ALLOW_PRIVATE_URLS = env_bool("SANDBOX_ALLOW_PRIVATE_URLS")

# The vendor's behaviour (contract.py): hosted files live 72 hours; keyed creates are
# remembered 24 hours; masks read by transparency ("alpha") or by whiteness ("white").
SANDBOX_FILE_LIFETIME = env_float("SANDBOX_FILE_LIFETIME", 72 * 3600.0)
SANDBOX_USER_GROUP = env("SANDBOX_USER_GROUP", "default")
SANDBOX_IDEMPOTENCY_SECONDS = env_float("SANDBOX_IDEMPOTENCY_SECONDS", 24 * 3600.0)
SANDBOX_MASK_READING = env("SANDBOX_MASK_READING", "alpha")
if SANDBOX_MASK_READING not in ("alpha", "white"):
    raise ImproperlyConfigured('SANDBOX_MASK_READING must be "alpha" or "white".')
# More accounts, each with its own file quota: keys separated by commas.
SANDBOX_EXTRA_API_KEYS = env_list("SANDBOX_EXTRA_API_KEYS")
