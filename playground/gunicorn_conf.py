"""gunicorn's settings, from the environment, for `manage.py up` and for the scale setup:

    gunicorn -c python:playground.gunicorn_conf playground.wsgi

WEB_CONCURRENCY processes of WEB_THREADS threads each; every process is a whole web
app, so on PostgreSQL any number of them (on any number of machines) can run at once.
"""

import os

bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 5
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")
