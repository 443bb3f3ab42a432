"""The database briefly away: nothing is lost, nothing is done twice, and a person is told.

On the embedded default another program holds SQLite's write lock for longer than the
busy timeout; on the scale setup PostgreSQL restarts. Meanwhile a batch runs through a
tracker and a queue cluster (the app's own processes), and people keep using the page.
"""

import os
import sqlite3
import subprocess
import threading
from contextlib import contextmanager

import httpx
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.urls import reverse
from django_q.conf import Conf

from playground.generations import tasks
from playground.generations.models import Generation, Reference, Status

from .accounting import assert_every_generation_accounted_for, forget_served_calls
from .children import manage, still_running, wait_for, web
from .conftest import drive
from .images import upload
from .storage import stored_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock")
PG_RESTART = os.environ.get("PLAYGROUND_TEST_PG_RESTART", "")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql" or not PG_RESTART,
    reason="PostgreSQL, with PLAYGROUND_TEST_PG_RESTART (set by .ci/scale-services) to restart it",
)

HTMX = {"HTTP_HX_REQUEST": "true"}
BUSY = "The database is busy"
# Children give up on SQLite's lock after this; the lock is held several times as long.
CHILD_BUSY_TIMEOUT = 0.5
LOCK_SECONDS = 4
# Longer than the lock, so no other worker takes a row over while its holder waits.
LEASE_SECONDS = 10


@contextmanager
def write_lock(seconds=None):
    """Another program holds SQLite's write lock (BEGIN EXCLUSIVE) on the app's database
    file: for `seconds` (the block then waits for its end), or else for the `with` block."""
    taken, release = threading.Event(), threading.Event()

    def hold():
        locker = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=60)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            taken.set()
            release.wait()
            locker.execute("ROLLBACK")
        finally:
            locker.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(60), "could not take the write lock"
    if seconds:
        threading.Timer(seconds, release.set).start()
    try:
        yield
    finally:
        if not seconds:
            release.set()
        thread.join()


def generate(client, prompt, n=1, **extra):
    return client.post(reverse("studio:generate"), {"prompt": prompt, "size": "1:1", "n": n, **extra}, **HTMX)


def test_a_queue_that_cannot_take_the_job_does_not_fail_the_click(owner_client, team, monkeypatch):
    def broker_away(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "async_task", broker_away)
    response = generate(owner_client, "a lantern in the fog")
    assert response.status_code == 200 and BUSY not in response.text
    generation = Generation.objects.get(team=team)
    drive(generation)  # what the tracker does with a row no job came for
    assert generation.status == Status.COMPLETED
    assert_every_generation_accounted_for([generation])


# -- SQLite: another writer holds the lock ---------------------------------------------


@sqlite_only
def test_generate_waits_out_a_write_lock_shorter_than_the_busy_timeout(owner_client, team):
    with write_lock(seconds=1.5):
        response = generate(owner_client, "a lantern in the fog")
    assert response.status_code == 200
    assert BUSY not in response.text
    assert Generation.objects.filter(team=team, prompt="a lantern in the fog").count() == 1


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """This web process gives up on SQLite's lock after half a second (the default is 30)."""
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.5)
    connection.close()
    yield
    connection.close()


@sqlite_only
def test_generate_during_a_long_write_lock_says_busy_and_stores_nothing(owner_client, team, short_busy_timeout):
    with write_lock():
        page = owner_client.get(reverse("studio:playground"))  # reading goes on (WAL)
        response = generate(owner_client, "a lantern in the fog", images=[upload()])
        plain = owner_client.post(reverse("studio:generate"), {"prompt": "a lantern", "size": "1:1", "n": 1})
    assert page.status_code == 200
    assert response.status_code == 200  # htmx swaps the form back, the message next to Generate
    assert BUSY in response.text
    assert ">a lantern in the fog</textarea>" in response.text  # the prompt is kept for the next try
    assert plain.status_code == 503
    assert BUSY in plain.text and "Traceback" not in plain.text
    assert not Generation.objects.exists()
    assert not Reference.objects.exists()
    assert stored_files(f"references/{team.pk}") == []
    # Once the lock is gone the same click works.
    assert generate(owner_client, "a lantern in the fog").status_code == 200
    assert Generation.objects.count() == 1


@sqlite_only
def test_a_batch_rides_out_write_locks_longer_than_the_busy_timeout(
    owner_client, team, sandbox, sandbox_faults, children, monkeypatch
):
    # Jobs go to the real broker (the database itself here), which the lock blocks too.
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {"SQLITE_BUSY_TIMEOUT": CHILD_BUSY_TIMEOUT, "LEASE_SECONDS": LEASE_SECONDS, "STALL_SECONDS": 3}
    children.append(qcluster := manage(sandbox, "qcluster", Q_WORKERS=2, **env))
    children.append(tracker := manage(sandbox, "track", **env))
    # Slow replies and downloads: the lock lands while a step waits on the service, and
    # the write that records what the service did (a task id, a stored image) meets it.
    sandbox_faults(slow_seconds=1, download_seconds=1)
    forget_served_calls(sandbox)
    for index in range(6):
        assert generate(owner_client, f"harbour {index} [sandbox:seconds=2]", n=1 + index % 2).status_code == 200

    def sending():
        return Generation.objects.filter(status=Status.SUBMITTING).exists()

    def downloading():
        return Generation.objects.filter(status=Status.INGESTING, attempts__gte=1).exclude(lease_token="").exists()

    wait_for(sending, 30, "nothing was sent")
    with write_lock(seconds=LOCK_SECONDS):
        # A click meanwhile waits its turn (this process keeps the 30 s busy timeout).
        assert generate(owner_client, "harbour during the lock").status_code == 200
        assert owner_client.get(reverse("studio:history"), **HTMX).status_code in (200, 204)
    wait_for(downloading, 60, still_running)
    with write_lock(seconds=LOCK_SECONDS):
        pass

    wait_for(lambda: not still_running(), 120, still_running)
    assert qcluster.poll() is None and tracker.poll() is None, "a worker died of the lock"
    generations = list(Generation.objects.filter(team=team))
    assert len(generations) == 7
    assert [g.status for g in generations] == [Status.COMPLETED] * 7, [g.error_message for g in generations]
    assert_every_generation_accounted_for(generations, sandbox)


@sqlite_only
def test_a_tracker_started_while_the_database_is_locked_runs_once_it_is_free(
    owner_client, team, sandbox, children, tmp_path
):
    log = tmp_path / "track.log"
    with write_lock(), log.open("w") as output:
        children.append(tracker := manage(sandbox, "track", output=output, SQLITE_BUSY_TIMEOUT=CHILD_BUSY_TIMEOUT))
        wait_for(lambda: tracker.poll() is not None or "tracker started" in log.read_text(), 60, "no start")
        assert tracker.poll() is None, f"the tracker ended at its start: {log.read_text()[-2000:]}"
    assert generate(owner_client, "harbour after the lock").status_code == 200
    wait_for(lambda: not still_running(), 60, still_running)
    assert Generation.objects.get(team=team).status == Status.COMPLETED


# -- PostgreSQL: the server restarts -----------------------------------------------------


@postgresql_only
def test_a_batch_and_the_web_ride_out_a_postgresql_restart(
    owner_client, owner, team, sandbox, sandbox_faults, children
):
    env = {"LEASE_SECONDS": LEASE_SECONDS, "STALL_SECONDS": 3}
    children.append(manage(sandbox, "qcluster", Q_WORKERS=2, **env))
    children.append(manage(sandbox, "track", **env))
    server, url = web(sandbox, **env)
    children.append(server)
    sandbox_faults(slow_seconds=0.5, download_seconds=0.5)
    forget_served_calls(sandbox)
    with signed_in(owner_client, url) as browser:
        for index in range(6):
            assert web_generate(browser, f"harbour {index} [sandbox:seconds=2]", n=1 + index % 2) == 200
        wait_for(lambda: Generation.objects.filter(status=Status.SUBMITTING).exists(), 30, "nothing was sent")

        restarted = subprocess.run(PG_RESTART, shell=True, capture_output=True, text=True, timeout=60)
        assert restarted.returncode == 0, restarted.stderr
        connection.close()  # this test's own connection died with the server

        # The web app's kept connections are checked before reuse: the next requests work.
        assert browser.get("/").status_code == 200
        assert web_generate(browser, "harbour after the restart") == 200
        wait_for(lambda: not still_running(), 120, still_running)
    assert all(process.poll() is None for process in children), "a process died of the restart"
    generations = list(Generation.objects.filter(team=team))
    assert len(generations) == 7
    assert [g.status for g in generations] == [Status.COMPLETED] * 7, [g.error_message for g in generations]
    assert_every_generation_accounted_for(generations, sandbox)


@contextmanager
def signed_in(client, url):
    """An HTTP client on the web server with the session `client` signed in with."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with httpx.Client(base_url=url, cookies={settings.SESSION_COOKIE_NAME: session}, timeout=60) as browser:
        assert browser.get("/").status_code == 200
        yield browser


def web_generate(browser, prompt, n=1):
    headers = {"HX-Request": "true", "X-CSRFToken": browser.cookies["csrftoken"]}
    form = {"prompt": prompt, "size": "1:1", "n": n}
    return browser.post(reverse("studio:generate"), data=form, headers=headers).status_code
