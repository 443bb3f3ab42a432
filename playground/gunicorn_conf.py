"""gunicorn's settings, from the environment, for `manage.py up` and for the scale setup:

    gunicorn -c python:playground.gunicorn_conf playground.wsgi

WEB_CONCURRENCY processes of WEB_THREADS threads each; every process is a whole web
app, so on PostgreSQL any number of them (on any number of machines) can run at once.
"""

import logging

from playground.env import env, env_int
from playground.log_redaction import SecretPathsRedacted

bind = env("WEB_BIND", f"127.0.0.1:{env('PORT', '8000')}")
# Two processes even on the embedded default: one process's Python is the bottleneck under
# load (measured with `manage.py loadtest`), and SQLite in WAL mode takes several readers.
workers = env_int("WEB_CONCURRENCY", 2)
threads = env_int("WEB_THREADS", 8)
timeout = env_int("WEB_TIMEOUT", 60)
# An open page polls every 2 s, which gunicorn's default keep-alive (2 s) cut at every poll:
# a request sent just as the server closed its idle connection failed, and a POST (Generate)
# is never retried. Idle connections wait in the gthread worker's poller, not in a thread.
keepalive = env_int("WEB_KEEPALIVE", 75)
graceful_timeout = 5
loglevel = env("WEB_LOG_LEVEL", "warning")


def on_starting(server):
    """Access and error lines name request paths, which may carry invitation or callback tokens."""
    for name in ("gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).addFilter(SecretPathsRedacted())
