"""Settings for the playground.

Everything comes from environment variables; with nothing set the app runs on its
embedded default: SQLite in WAL mode, local media, django-q2 on the ORM broker and
the built-in EvoLink sandbox as upstream.
"""

import os
import secrets
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from playground.env import env, env_bool, env_float, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env("PLAYGROUND_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret_key():
    # One key per installation, kept beside the database, so sessions survive restarts
    # without anyone having to invent a key for the embedded default.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY") or _persistent_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "playground.admin_site.PlaygroundAdminConfig",  # django.contrib.admin, ids past 64 bits not found
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "axes",
    "heroicons",
    "playground.teams",
    "playground.generations",
    "playground.studio",
    "playground.library",  # the team's prompt library
    "playground.batches",  # many prompts from one template
    "playground.gateway",
]
# The developer tools (`manage.py bench`, `manage.py loadtest`) are an app beside the product,
# not in it: loaded only where the checkout has them and the test or load extra is installed.
def has_module(name):
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package is not there
        return False


# devtools.bench, not devtools alone: a PyPI package named "devtools" must not count.
if has_module("devtools.bench") and has_module("locust"):
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "playground.static_files.StaticFiles",  # whitenoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware: its append-slash redirects, answered before any later middleware
    # runs, are signed-in answers too.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "playground.cache_control.SignedInPagesNotStored",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "playground.refusals.RefusalsInWords",
    # Last: it turns a locked-out sign-in into the sign-in page saying so.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "playground.urls"
WSGI_APPLICATION = "playground.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "playground.teams.context_processors.current_team",
            ],
        },
    },
]

# SQLite: WAL lets the web process read while a worker writes; IMMEDIATE takes the
# write lock at BEGIN, so a transaction that reads then writes never dies with
# "database is locked" half-way; the timeout makes writers queue instead of failing.
SQLITE_PATH = Path(env("SQLITE_PATH", str(DATA_DIR / "db.sqlite3")))
SQLITE_BUSY_TIMEOUT = env_float("SQLITE_BUSY_TIMEOUT", 30)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SQLITE_PATH,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file, not memory, so the tests' worker processes share it; one per test run,
        # so two runs on one checkout do not collide.
        "TEST": {"NAME": env("TEST_SQLITE_PATH", str(DATA_DIR / f"test-{os.getpid()}.sqlite3"))},
    }
}
# The scale setup: DATABASE_URL (postgres://user:password@host:5432/name) moves everything
# to PostgreSQL. Connections are kept for a minute and checked before reuse.
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    import dj_database_url

    DATABASES["default"] = dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    # One test database per test run, as with SQLite, so two runs on one server (from
    # containers that reuse process ids too) never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", f"test_playground_{secrets.token_hex(6)}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
# Static files: `collectstatic` (`manage.py up` runs it before it starts the web app) copies
# them into STATIC_ROOT under names that carry a hash of their content, with brotli and gzip
# copies beside them; whitenoise serves those with a year's cache (playground/static_files.py)
# and the compressed copy a browser asks for. COLLECTED_STATIC=0 serves the files as they are
# in the checkout, with no collectstatic step (the tests do, and the processes they start).
# The typeface is cut from its package into DATA_DIR (playground/typeface.py).
COLLECTED_STATIC = env_bool("COLLECTED_STATIC", True)
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Generated images are never served from MEDIA_URL: the image view checks the team.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if COLLECTED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The scale setup: S3_BUCKET moves every image, reference and mask to an S3-compatible
# bucket. Credentials come the usual AWS ways (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
# a profile, an instance role). Objects stay private: members get them through the image
# views, which check the team and then stream the object (S3_SERVE=proxy) or redirect to
# a link signed for S3_URL_SECONDS (S3_SERVE=signed).
S3_BUCKET = env("S3_BUCKET")
S3_ENDPOINT_URL = env("S3_ENDPOINT_URL")
S3_REGION = env("S3_REGION")
S3_ADDRESSING_STYLE = env("S3_ADDRESSING_STYLE")
S3_SERVE = env("S3_SERVE", "proxy")
if S3_SERVE not in ("proxy", "signed"):
    raise ImproperlyConfigured(f"S3_SERVE must be proxy or signed, not {S3_SERVE!r}.")
S3_URL_SECONDS = env_int("S3_URL_SECONDS", 300)
# Where signed links point, when bucket_origins() below cannot tell (a CDN, another AWS
# partition): an origin such as https://images.example.com, added to the pages' img-src.
S3_PUBLIC_ORIGIN = env("S3_PUBLIC_ORIGIN").rstrip("/")
# On only when the service can reach the bucket: references are then sent as links signed
# for S3_REFERENCE_URL_SECONDS instead of being uploaded to the vendor's file hosting.
S3_REFERENCE_URLS = env_bool("S3_REFERENCE_URLS", False)
S3_REFERENCE_URL_SECONDS = env_int("S3_REFERENCE_URL_SECONDS", 6 * 3600)
if S3_BUCKET:
    from boto3.s3.transfer import TransferConfig

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION or None,
            "location": env("S3_PREFIX"),
            # No ACL header: objects are private by default, and buckets with ACLs turned
            # off (AWS's default) refuse one.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": S3_URL_SECONDS,
            # Names derive from the generation: a re-run replaces its own leftovers.
            "file_overwrite": True,
            "signature_version": "s3v4",
            "addressing_style": S3_ADDRESSING_STYLE or None,
            # Memory, per file: one read (to serve, zip or edit it) spools to a temporary file
            # past 1 MB instead of being held whole; one write goes up as a single streamed PUT
            # (the files are at most RESULT_MAX_BYTES, 50 MB) instead of multipart, which holds
            # several 8 MB parts in memory at once.
            "max_memory_size": 2**20,
            "transfer_config": TransferConfig(multipart_threshold=2**30),
        },
    }


def bucket_origins():
    """Where the links the bucket signs point, for the pages' img-src.

    With an endpoint, path style (scheme://host[:port]/bucket/key) unless told "virtual";
    on AWS, the bucket's own host, or the service's host for path style and for dotted
    names, which botocore addresses by path.
    """
    if S3_PUBLIC_ORIGIN:
        return [S3_PUBLIC_ORIGIN]
    if S3_ENDPOINT_URL:
        parts = urlsplit(S3_ENDPOINT_URL)
        host = f"{S3_BUCKET}.{parts.netloc}" if S3_ADDRESSING_STYLE == "virtual" else parts.netloc
        return [f"{parts.scheme}://{host}"]
    region = S3_REGION or env("AWS_REGION") or env("AWS_DEFAULT_REGION")
    hosts = ["s3.amazonaws.com"] + ([f"s3.{region}.amazonaws.com"] if region else [])
    if S3_ADDRESSING_STYLE != "path" and "." not in S3_BUCKET:
        hosts = [f"{S3_BUCKET}.{host}" for host in hosts]
    return [f"https://{host}" for host in hosts]


# Signed links send the browser to the bucket itself, which the CSP below must allow.
S3_IMG_ORIGINS = bucket_origins() if S3_BUCKET and S3_SERVE == "signed" else []
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "playground.typeface.TypefaceFinder",
]
WHITENOISE_USE_FINDERS = DEBUG or not COLLECTED_STATIC
# The pages name only the hashed files: the plain copies need not be kept (nor compressed).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio:playground"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "playground" / "locale"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# No inline scripts or styles, and nothing from another origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:", *S3_IMG_ORIGINS],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Production is an HTTPS deployment behind a proxy (BEHIND_HTTPS_PROXY=1): trust its
# X-Forwarded-Proto, send cookies over HTTPS only, redirect plain HTTP and ask browsers
# (HSTS) to use HTTPS alone. Subdomains and preloading bind more than this app, so only
# when asked.
BEHIND_HTTPS_PROXY = env_bool("BEHIND_HTTPS_PROXY")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SILENCED_SYSTEM_CHECKS = []
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # A decision, not an oversight: the other hosts of the domain are not this app's to bind.
    SILENCED_SYSTEM_CHECKS += [] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]
    SILENCED_SYSTEM_CHECKS += [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Sign-in: 5 failures for one (username, address) lock that pair out for 15 minutes, in
# the database, so every web worker sees them (django-axes). The Django admin's sign-in too.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("SIGN_IN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are what count; successes would pile up forever
AXES_LOCKOUT_CALLABLE = "playground.signin.locked_out"
AXES_CLIENT_IP_CALLABLE = "playground.signin.client_address"

# Upstream. A team's own key (set on its Key page) wins; else the deployment's
# EVOLINK_API_KEY, for the teams an operator allowed; else the built-in sandbox that
# `manage.py up` starts on SANDBOX_PORT, when USE_SANDBOX; else the team must set a key.
SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = env_int("SANDBOX_PORT", 8001)
SANDBOX_API_KEY = env("SANDBOX_API_KEY", "sandbox-key")
SANDBOX_URL = env("SANDBOX_URL", f"http://{SANDBOX_HOST}:{SANDBOX_PORT}")
EVOLINK_API_KEY = env("EVOLINK_API_KEY")
# `manage.py up` starts the sandbox unless the deployment has a key of its own.
USE_SANDBOX = env_bool("USE_SANDBOX", not EVOLINK_API_KEY)
EVOLINK_BASE_URL = env("EVOLINK_BASE_URL", "https://api.evolink.ai")
EVOLINK_FILES_BASE_URL = env("EVOLINK_FILES_BASE_URL", "https://files-api.evolink.ai")
EVOLINK_TIMEOUT = env_float("EVOLINK_TIMEOUT", 30)
EVOLINK_MAX_RETRIES = env_int("EVOLINK_MAX_RETRIES", 3)

# Secrets at rest (the teams' API keys): Fernet keys, newest first. Unset, a key file
# beside the database is made on first use. See playground/teams/encryption.py.
ENCRYPTION_KEYS = env_list("ENCRYPTION_KEYS", "")
# Credits a generation reserves against the team's budgets per image, until the
# service's own figure replaces it (the vendor's page says 1.5 per image).
CREDITS_PER_IMAGE = env_float("CREDITS_PER_IMAGE", 1.5)
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# Product limits and the tracker's rhythm.
PROMPT_MAX_LENGTH = env_int("PROMPT_MAX_LENGTH", 2000)
# Batches (playground/batches/): the most prompts one batch makes, from value lists or a
# CSV/TSV file; past it the batch is refused with its count before any row is built.
BATCH_MAX_ROWS = env_int("BATCH_MAX_ROWS", 500)
# The deployment's public address. When it is HTTPS (the contract allows nothing else),
# tasks are sent with a callback_url pointing at it, which short-cuts polling.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL")
CALLBACK_BASE_URL = PUBLIC_BASE_URL if PUBLIC_BASE_URL.startswith("https://") else ""
HISTORY_PANEL_SIZE = 20

# The EvoLink-compatible gateway (/v1/…, /api/v1/files/…): limits per personal token,
# shared by every web process (counted in the database).
GATEWAY_REQUESTS_PER_MINUTE = env_int("GATEWAY_REQUESTS_PER_MINUTE", 120)
GATEWAY_TASKS_IN_FLIGHT = env_int("GATEWAY_TASKS_IN_FLIGHT", 10)
# Seconds between a callback's attempts: the vendor retries 3 times, after 1, 2 and 4 s.
GATEWAY_CALLBACK_RETRY_DELAYS = [float(delay) for delay in env_list("GATEWAY_CALLBACK_RETRY_DELAYS", "1,2,4")]
# Local development only: callbacks and image links to plain http and this machine's addresses.
GATEWAY_ALLOW_PRIVATE_URLS = env_bool("GATEWAY_ALLOW_PRIVATE_URLS")
RESULT_MAX_BYTES = env_int("RESULT_MAX_BYTES", 50 * 1024 * 1024)
# A team's tasks in flight (let out of its line and not yet done upstream) at most: more of
# its generations wait in the app's own line, so one batch never floods the upstream.
TEAM_TASKS_IN_FLIGHT = env_int("TEAM_TASKS_IN_FLIGHT", 8)
TRACKER_MIN_INTERVAL = env_float("TRACKER_MIN_INTERVAL", 2.0)
TRACKER_MAX_INTERVAL = env_float("TRACKER_MAX_INTERVAL", 10.0)
TRACKER_CONCURRENCY = env_int("TRACKER_CONCURRENCY", 16)
TRACKER_IDLE_SLEEP = env_float("TRACKER_IDLE_SLEEP", 0.2)
# How long a worker's claim on a generation lasts. A heartbeat renews it while the work
# goes on, so a live holder keeps it and a dead one (killed, or its machine lost) is
# replaced by another tracker within this many seconds.
LEASE_SECONDS = env_int("LEASE_SECONDS", 30)
# A queued or ingesting row that no queue worker has touched by then is picked up by
# the tracker itself, so nothing waits on a worker that died.
STALL_SECONDS = env_int("STALL_SECONDS", 20)
MAX_ATTEMPTS = env_int("MAX_ATTEMPTS", 8)
# Every SWEEP_INTERVAL_SECONDS the tracker removes stored files that no row names (left by
# a process killed between writing a file and committing its row) once they are older than
# SWEEP_GRACE_SECONDS, far longer than any request or step takes to commit.
SWEEP_INTERVAL_SECONDS = env_float("SWEEP_INTERVAL_SECONDS", 600)
SWEEP_GRACE_SECONDS = env_float("SWEEP_GRACE_SECONDS", 3600)

# django-q2 runs the one-off jobs. retry > timeout, or a long job runs twice; our
# own rows carry the attempt counter and every job is idempotent.
JOB_TIMEOUT = env_int("JOB_TIMEOUT", 600)
Q_CLUSTER = {
    "name": "playground",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": JOB_TIMEOUT,
    "retry": JOB_TIMEOUT + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.2,
    "sync": env_bool("Q_SYNC", False),
    "label": _("Background jobs"),
}
# The scale setup: REDIS_URL (redis://host:6379/0) makes Redis the queue's broker, so
# workers on several machines share it, and the cache that every web worker shares.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL
    # A database of its own (REDIS_CACHE_URL) keeps a cache clear from dropping queued jobs.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_CACHE_URL", REDIS_URL),
        }
    }

# Error reports (the technical 500 page with DEBUG on, mailed reports) also hide the
# settings that carry passwords inside URLs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "playground.reporting.SecretsHiddenFilter"

# Invitation and callback tokens never reach a log line (see playground/log_redaction.py): the
# filter is on the loggers that name request paths, so every handler (the tests' too) gets the
# record redacted, and on the console handler, for everything else (the app's own loggers: a
# filter on "playground" would not see its children's records). django.server is set up as
# Django sets it up, plus the filter: naming a logger here replaces its handlers.
# Django's own "django" logger prints every django.* record (a CSRF refusal names its path) on a
# console handler of its own in DEBUG: the same, filtered. Its other one, mail to ADMINS, is left
# out: the mail holds the whole request (its URL, its headers), which no filter can clean; errors
# reach the root's console in any case.
# django-q adds a handler of its own only when no logger up its line has one: the root's console
# (filtered) is there, so its records go through that.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "secret_paths": {"()": "playground.log_redaction.SecretPathsRedacted"},
        "require_debug_true": {"()": "django.utils.log.RequireDebugTrue"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secret_paths"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
        "django.console": {"class": "logging.StreamHandler", "filters": ["require_debug_true", "secret_paths"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        **{name: {"level": "WARNING"} for name in ("httpx", "httpcore", "django-q", "axes", "fontTools")},
        "django.request": {"filters": ["secret_paths"]},
        "django": {"handlers": ["django.console"], "level": "INFO"},
        "django.server": {
            "handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["secret_paths"]
        },
    },
}
