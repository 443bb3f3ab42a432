"""The app's own processes as `manage.py up` runs them (queue workers, tracker, web server
under gunicorn), started on the bench's scratch database, storage and sandbox."""

import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from devtools.processes import child_env
from playground.sandbox.process import free_port, port_answers

START_SECONDS = 60
STOP_SECONDS = 15


@contextmanager
def app_processes(sandbox, folder, **env):
    """Yields (web URL, their log files); each process writes its output and log to one."""
    port = free_port()
    commands = {
        "queue-workers": ["manage.py", "qcluster", "--skip-checks"],
        "tracker": ["manage.py", "track"],
        "web": ["-m", "gunicorn", "-c", "python:playground.gunicorn_conf", "playground.wsgi"],
    }
    environment = child_env(sandbox, PORT=port, **env)
    logs, processes = [], []
    try:
        for name, command in commands.items():
            log = Path(folder) / f"{name}.log"
            logs.append(log)
            with log.open("ab") as output:
                processes.append(subprocess.Popen(
                    [sys.executable, *command], cwd=settings.BASE_DIR, env=environment,
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                ))
        wait_for_start(processes, logs, port)
        yield f"http://127.0.0.1:{port}", logs
    finally:
        stop(processes)


def wait_for_start(processes, logs, port):
    deadline = time.monotonic() + START_SECONDS
    while not (port_answers("127.0.0.1", port) and "tracker started" in logs[1].read_text(errors="replace")):
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise CommandError(f"{log.stem} stopped:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise CommandError("The app's processes did not start within a minute.")
        time.sleep(0.1)


def stop(processes):
    """SIGTERM, as a deployment stops them (a queue cluster stops its own workers)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def lines_with(logs, needle):
    """How many lines of the logs contain `needle`."""
    return sum(needle in line for log in logs if log.exists() for line in log.read_text(errors="replace").splitlines())
