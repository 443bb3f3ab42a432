"""The whole app on its embedded default, started by `manage.py up` in a scratch data dir."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings

from playground.sandbox.process import free_port

# What would move a child off the embedded default, or onto the installation's own files.
NOT_EMBEDDED = (
    "DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "S3_BUCKET", "S3_PREFIX", "SQLITE_PATH", "MEDIA_ROOT",
    "EVOLINK_API_KEY", "SECRET_KEY", "ENCRYPTION_KEYS", "SANDBOX_URL", "PUBLIC_BASE_URL", "Q_SYNC",
)
# Enough sandbox credits and hosted files for any run (its defaults mirror one EvoLink account).
SANDBOX_ALLOWANCE = {"SANDBOX_CREDITS": "100000000", "SANDBOX_MAX_FILES": "1000000"}
START_SECONDS = 90
STOP_SECONDS = 30


def scratch_env(folder):
    """The environment of a process that runs on the embedded default in `folder`."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_EMBEDDED}
    return {
        **env,
        **SANDBOX_ALLOWANCE,
        "PLAYGROUND_DATA_DIR": str(folder),
        "USE_SANDBOX": "1",
        "PORT": str(free_port()),
        "SANDBOX_PORT": str(free_port()),
    }


def log_paths():
    """Where the app's processes write: `up` with web, queue workers and tracker; the sandbox."""
    return [settings.DATA_DIR / "app.log", settings.DATA_DIR / "sandbox" / "sandbox.log"]


@contextmanager
def running_app():
    """`manage.py up` on this process's settings (a scratch_env); yields the web app's URL."""
    port = int(os.environ["PORT"])
    with open(log_paths()[0], "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "up", "--port", str(port)],
            cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(url, process)
            yield url
        finally:
            stop(process)


def wait_for(url, process):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`manage.py up` stopped with exit code {process.returncode}; see {log_paths()[0]}")
        try:
            if httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"The app did not answer at {url} within {START_SECONDS} s")


def stop(process):
    """As Ctrl-C would: `up` stops its own children."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def matching_lines(paths, needles):
    """{file name: its lines that contain any of needles} for each of the files that exist."""
    found = {}
    for path in map(Path, paths):
        if path.exists():
            with path.open(errors="replace") as log:
                found[path.name] = [line.rstrip() for line in log if any(needle in line for needle in needles)]
    return found
