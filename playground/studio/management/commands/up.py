import os
import signal
import subprocess
import sys
import time

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from playground.sandbox.process import port_answers, start_sandbox
from playground.teams.demo import ensure_demo_login

HOST = "127.0.0.1"  # loopback only: the embedded default is for one machine
STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Start the playground on its embedded default: migrate, collect the static files, create the "
        "demo login, and run "
        "the web app, the queue workers, the tracker and (with no EVOLINK_API_KEY) the sandbox "
        "until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))

    def handle(self, *args, port, **options):
        _check_free(port, "PORT")
        if settings.USE_SANDBOX:
            _check_free(settings.SANDBOX_PORT, "SANDBOX_PORT")
        call_command("migrate", interactive=False, verbosity=0)
        if settings.COLLECTED_STATIC:
            call_command("collectstatic", interactive=False, verbosity=0)
        username, password = ensure_demo_login()
        stop = _stop_on_signals()
        children = []
        try:
            if settings.USE_SANDBOX:
                sandbox = start_sandbox(
                    settings.DATA_DIR / "sandbox",
                    port=settings.SANDBOX_PORT,
                    env={"SANDBOX_API_KEY": settings.SANDBOX_API_KEY},
                )
                children.append(("sandbox", sandbox.process))
            # The checks ran here once; a queue cluster started while SQLite is locked would end on
            # them (the tracker skips them itself, see track.py).
            children.append(("queue workers", _manage("qcluster", "--skip-checks")))
            children.append(("tracker", _manage("track")))
            children.append(("web", _web(port)))
            _wait_for_web(port, children)
            self._banner(port, username, password)
            _supervise(children, stop)
        finally:
            _stop_all(children)

    def _banner(self, port, username, password):
        upstream = "built-in sandbox" if settings.USE_SANDBOX else settings.EVOLINK_BASE_URL
        self.stdout.write(
            self.style.SUCCESS(f"\nImage playground running at http://{HOST}:{port}/\n")
            + f"  Sign in as  {username} / {password}\n"
            + f"  Upstream    {upstream}\n"
            + "  Press Ctrl-C to stop.\n"
        )
        self.stdout.flush()


def _check_free(port, variable):
    if port_answers(HOST, port):
        raise CommandError(
            f"Port {port} is already in use. Stop what is using it, or choose another port "
            f"with {variable}=… (for example {variable}={port + 80})."
        )


def _manage(*args):
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR)


def _web(port):
    return subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", "python:playground.gunicorn_conf", "playground.wsgi",
            "--bind", f"{HOST}:{port}",
        ],
        cwd=settings.BASE_DIR,
    )


def _wait_for_web(port, children, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(children)
        try:
            httpx.get(f"http://{HOST}:{port}/accounts/login/", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise CommandError(f"The web app did not start on port {port}.")


def _stop_on_signals():
    stop = {"requested": False}

    def request_stop(*_):
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def _supervise(children, stop):
    while not stop["requested"]:
        time.sleep(0.5)
        if not stop["requested"]:  # Ctrl-C reaches the children too; that is no crash
            _check_alive(children)


def _check_alive(children):
    for name, process in children:
        if process.poll() is not None:
            raise CommandError(f"The {name} process stopped (exit code {process.returncode}).")


def _stop_all(children):
    for _name, process in children:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for _name, process in children:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
