"""Run the sandbox as a child process: for tests and for the app's launcher.

with start_sandbox(tmp_path) as sandbox:
    httpx.get(sandbox.url + "/v1/credits", headers=sandbox.headers)
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_API_KEY = "sandbox-key"


class SandboxError(RuntimeError):
    pass


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_answers(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class SandboxProcess:
    """A running sandbox: .url, .api_key, .headers, .data_dir, .log_path; .stop() ends it."""

    def __init__(self, process, host, port, api_key, data_dir, log_path, log_file):
        self._log_start = log_file.tell()
        self.process = process
        self.host = host
        self.port = port
        self.api_key = api_key
        self.data_dir = data_dir
        self.log_path = log_path
        self._log_file = log_file
        self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.api_key}"}

    def log(self):
        """What this run has printed so far."""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL if it has not ended within timeout seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def launch(data_dir, host, port, env, log_path, timeout):
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), child_env.get("PYTHONPATH")])
    )
    api_key = child_env.get("SANDBOX_API_KEY") or DEFAULT_API_KEY
    log_file = open(log_path, "ab")  # a file, not a pipe: a full pipe would block the child
    command = [
        sys.executable,
        "-m",
        "playground.sandbox",
        "--host",
        host,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    process = subprocess.Popen(
        command, env=child_env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    sandbox = SandboxProcess(process, host, port, api_key, Path(data_dir), log_path, log_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sandbox.stop()
            raise SandboxError(
                f"The sandbox exited with code {process.returncode}:\n{sandbox.log()}"
            )
        # The announcement first: another server already on this port would answer too.
        if "EvoLink sandbox listening on" in sandbox.log() and port_answers(host, port):
            return sandbox
        time.sleep(0.05)
    sandbox.stop()
    raise SandboxError(
        f"The sandbox did not answer on {host}:{port} within {timeout} s:\n{sandbox.log()}"
    )


def start_sandbox(data_dir, port=None, env=None, host="127.0.0.1", log_path=None, timeout=20):
    """Start `python -m playground.sandbox` and return once its port answers.

    With no port a free one is picked (and picked again, up to 3 times, if
    another process takes it first). env adds to this process's environment.
    The child's output goes to log_path (default DATA_DIR/sandbox.log).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_path) if log_path else data_dir / "sandbox.log"
    attempts = 1 if port else 3
    for attempt in range(attempts):
        try:
            return launch(data_dir, host, port or free_port(host), env, log_path, timeout)
        except SandboxError as exc:
            if attempt + 1 == attempts or "could not listen" not in str(exc):
                raise
