"""The scratch database, storage and sandbox a bench runs on, never the installation's own."""

import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.test import override_settings
from django.test.utils import setup_test_environment, teardown_test_environment

from devtools.scratch import empty, storages_in
from playground.generations.bucket import in_bucket
from playground.sandbox.process import start_sandbox


@contextmanager
def scratch_setup():
    """A scratch folder, database, storage and sandbox: (folder, sandbox)."""
    with tempfile.TemporaryDirectory() as folder, scratch_database(Path(folder)), scratch_storage():
        with bench_upstream(Path(folder)) as sandbox, checkout_static_files():
            yield Path(folder), sandbox


@contextmanager
def checkout_static_files():
    """Pages that name the static files as they are in the checkout, as the tests' pages do: the
    bench times the app's own work and needs no `collectstatic` first (nor do the processes it
    starts, see devtools/processes.py)."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}, COLLECTED_STATIC=False):
        yield


@contextmanager
def bench_upstream(scratch):
    """A scratch sandbox, and settings that point the playground at it."""
    with start_sandbox(scratch / "sandbox", env={"SANDBOX_API_KEY": "bench"}) as sandbox, override_settings(
        SANDBOX_URL=sandbox.url,
        EVOLINK_API_KEY="",
        SANDBOX_API_KEY=sandbox.api_key,
        MEDIA_ROOT=scratch / "media",
    ):
        yield sandbox


@contextmanager
def scratch_database(folder):
    """A scratch database made as the tests make theirs: a SQLite file in `folder`, or a
    database bench_<random> on the same PostgreSQL server, dropped afterwards."""
    database = settings.DATABASES["default"]
    original = database["NAME"]
    scratch = str(folder / "bench.sqlite3") if connection.vendor == "sqlite" else f"bench_{uuid.uuid4().hex[:12]}"
    database.setdefault("TEST", {})["NAME"] = scratch
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        teardown_test_environment()


@contextmanager
def scratch_storage():
    """On S3, default storage moved to a scratch prefix inside the configured one, emptied
    afterwards. (A local MEDIA_ROOT is moved to the scratch folder by bench_upstream.)"""
    if not in_bucket():
        yield
        return
    with override_settings(STORAGES=storages_in(f"bench-{uuid.uuid4().hex[:12]}")):
        try:
            yield
        finally:
            empty(default_storage)
