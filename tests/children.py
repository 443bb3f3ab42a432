"""The app's own processes (trackers, queue clusters, the web server) started as children
on the test's database, storage and sandbox, and killed the way a crash kills them."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings

from devtools.processes import child_env
from playground.generations.models import RUNNING, Generation
from playground.sandbox.process import free_port, port_answers

# Short leases and quick passes keep a test of a takeover short; the rules are the same.
QUICK = {"TRACKER_MIN_INTERVAL": 0.2, "LEASE_SECONDS": 2, "STALL_SECONDS": 1}


def start(sandbox, *command, output=None, **env):
    """Start `command` (argv after the interpreter) in a session of its own, so a kill takes
    every process it forked too (a queue cluster's workers, gunicorn's worker). Its output
    and log go to `output` (an open file), else nowhere."""
    output = output or subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, *command], cwd=settings.BASE_DIR, env=child_env(sandbox, **env),
        stdout=output, stderr=output, start_new_session=True,
    )


def manage(sandbox, *args, output=None, **env):
    """`manage.py <args>`: `track`, `qcluster`."""
    return start(sandbox, "manage.py", *args, output=output, **{**QUICK, **env})


def web(sandbox, **env):
    """The web app under gunicorn, as deployed, on a free loopback port; returns (process, url)."""
    port = free_port()
    process = start(
        sandbox, "-m", "gunicorn", "-c", "python:playground.gunicorn_conf", "playground.wsgi",
        PORT=port, WEB_CONCURRENCY=1, WEB_THREADS=4, **{**QUICK, **env},
    )
    deadline = time.monotonic() + 30
    while not port_answers("127.0.0.1", port):
        assert process.poll() is None, "the web server exited"
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def kill(process):
    """SIGKILL the process and everything in its session: nothing gets to clean up."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def stop_all(processes, timeout=15):
    """SIGTERM to each main process, as a deployment stops it (a queue cluster's leader stops
    the workers it forked; signalled too, they hang); then SIGKILL for whatever is left."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        kill(process)


def wait_for(condition, timeout, message):
    """`condition()`'s first true value, asked every 50 ms; fails with `message` (or its
    result, when callable) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.05)
    return found


def still_running():
    """The generations not finished yet, for a failure message."""
    return list(Generation.objects.filter(status__in=RUNNING).values_list("public_id", "status", "error_message"))
