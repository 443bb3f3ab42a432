import secrets
from uuid import uuid4

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.test import Client
from django.utils import translation
from django_q.conf import Conf

from devtools.scratch import empty, storages_in
from playground.generations import totals
from playground.generations.bucket import in_bucket
from playground.generations.models import Generation
from playground.generations.tracker import run_until_finished
from playground.sandbox.process import start_sandbox
from playground.teams.models import Membership, Team

from .children import stop_all

PASSWORD = "correct horse battery staple"
PLAIN_STATIC_FILES = "django.contrib.staticfiles.storage.StaticFilesStorage"

# Chromium fixtures (browser, page, tracker, watch) for the tests that drive a browser;
# sandbox_mask_reading for the mask tests.
pytest_plugins = ["tests.browser", "tests.mask_readings"]


# A test's fixtures say what it needs; its markers follow from them (pyproject.toml lists the
# markers), so `-m "not browser"` or the scale run's `-m "engines and not browser"` select it.
MARKED_BY_FIXTURE = {
    "browser": ["browser"],
    "children": ["processes", "engines"],  # the app's processes, on the test's database and storage
    "keyed_sandbox": ["processes"],
    "callback_sandbox": ["processes"],
    "reaching_sandbox": ["processes"],
    "local_sandbox": ["processes"],
    "transactional_db": ["engines"],
}


# The files that take longest (measured with --durations on a 2-core machine), longest first.
# pyproject.toml's addopts keep xdist from reordering the files (its default puts the files
# with the most tests first, which left the long files of few tests, such as the load test,
# to start last and run on alone); these go first, so the short files fill in around them.
LONGEST_FIRST = [
    "test_faults_upstream.py", "test_hosting_quota.py", "test_no_server_errors.py", "test_browser.py",
    "test_no_server_errors_admin.py", "test_faults_kills.py", "test_modes.py", "test_web_security.py",
    "test_scale.py", "test_browser_actions.py", "test_browser_stage.py", "test_load.py", "test_hostile_uploads.py",
    "test_browser_every_page.py", "test_browser_history.py", "test_browser_hostile.py", "test_faults_database.py",
]


def longest_first(item):
    name = item.path.name
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items):
    items.sort(key=longest_first)  # stable: each file's own tests keep their order
    for item in items:
        for fixture in set(item.fixturenames) & MARKED_BY_FIXTURE.keys():
            for marker in MARKED_BY_FIXTURE[fixture]:
                item.add_marker(marker)
        if commits(item):
            item.add_marker("engines")


def commits(item):
    """Whether the test runs on a database whose transactions really commit."""
    marker = item.get_closest_marker("django_db")
    return marker is not None and bool(marker.kwargs.get("transaction", marker.args[:1] == (True,)))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The built-in EvoLink sandbox, over real HTTP on loopback, with quick tasks."""
    data_dir = tmp_path_factory.mktemp("sandbox")
    with start_sandbox(data_dir, env={"SANDBOX_TASK_SECONDS": "1.5", "SANDBOX_MAX_FILES": "100000"}) as process:
        yield process


@pytest.fixture(scope="session")
def keyed_sandbox(tmp_path_factory):
    """A second sandbox that accepts only its own, distinctive key: a team's own account."""
    key = "sk-evo-" + secrets.token_hex(16)
    env = {"SANDBOX_API_KEY": key, "SANDBOX_TASK_SECONDS": "1"}
    with start_sandbox(tmp_path_factory.mktemp("keyed-sandbox"), env=env) as process:
        yield process


@pytest.fixture
def sandbox_faults(sandbox):
    """Switch sandbox faults on for one test; they are reset afterwards."""

    def switch(**faults):
        httpx.post(f"{sandbox.url}/_sandbox/faults", json=faults, headers=sandbox.headers).raise_for_status()

    yield switch
    httpx.delete(f"{sandbox.url}/_sandbox/faults", headers=sandbox.headers).raise_for_status()


@pytest.fixture
def children():
    """A list to put the app's child processes in (see tests/children.py); whatever still
    runs is stopped after the test."""
    started = []
    yield started
    stop_all(started)


@pytest.fixture(scope="session")
def s3_run_prefix():
    """On S3, the folder of this run's tests (one each inside it). It is emptied once, at the end
    of the run: when a test's fixtures end, its own patches (of socket.getaddrinfo, say) are still on."""
    prefix = f"tests/{uuid4().hex}"
    yield prefix
    empty(storages.create_storage(storages_in(prefix)["default"]))


@pytest.fixture
def media(request, settings, tmp_path):
    """A fresh media dir for each test, or on S3 a prefix of its own."""
    if not in_bucket():
        settings.MEDIA_ROOT = tmp_path / "media"
        return
    # Changing STORAGES makes Django build default_storage afresh, on this test's own prefix.
    settings.STORAGES = storages_in(f"{request.getfixturevalue('s3_run_prefix')}/{uuid4().hex}")


# Where the upstream is for a test that did not ask for the sandbox: nothing listens on
# port 9, so a call to it is refused at once and such a test fails instead of passing unnoticed.
NO_UPSTREAM = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def upstream(request, media, settings, monkeypatch):
    """Every test stores into its own media and runs queue jobs inline (django-q2's sync
    mode) so it can follow them. A test that uses the `sandbox` fixture (a module says
    `pytest.mark.usefixtures("sandbox")`) talks to it through the real client; any other
    test has no upstream at all, and starts no process."""
    settings.SANDBOX_URL = NO_UPSTREAM
    settings.SANDBOX_API_KEY = ""
    # The sandbox is in use (its address the operator's), whatever USE_SANDBOX the environment set.
    settings.USE_SANDBOX = True
    if "sandbox" in request.fixturenames:
        sandbox = request.getfixturevalue("sandbox")
        settings.SANDBOX_URL = sandbox.url
        settings.SANDBOX_API_KEY = sandbox.api_key
    # Hashing a password the production way takes ~0.3 s; tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EVOLINK_API_KEY = ""
    # Static files as they are in the checkout, with no collectstatic step (tests/test_static_files.py
    # collects them once, to check what a deployment serves).
    settings.COLLECTED_STATIC = False
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC_FILES}}
    settings.WHITENOISE_USE_FINDERS = True
    settings.TRACKER_MIN_INTERVAL = 0.2
    settings.STALL_SECONDS = 5
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def english_between_tests():
    # LocaleMiddleware leaves the language of the last request active in the thread.
    translation.activate("en")
    yield
    translation.activate("en")


def make_user(username, team, role=Membership.Role.MEMBER):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    if team:
        Membership.objects.create(team=team, user=user, role=role)
    return user


@pytest.fixture
def team(db):
    return Team.objects.create(name="Acme studio", slug="acme")


@pytest.fixture
def other_team(db):
    return Team.objects.create(name="Rival inc", slug="rival")


@pytest.fixture
def owner(team):
    return make_user("olivia", team, Membership.Role.OWNER)


@pytest.fixture
def teammate(team):
    return make_user("tom", team)


@pytest.fixture
def outsider(other_team):
    return make_user("oscar", other_team, Membership.Role.OWNER)


def signed_in(user):
    """A test client with `user` signed in."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def drive(generation, timeout=30):
    """Advance a generation as the tracker would, until it finishes."""
    assert run_until_finished(generation, timeout, pause=0.05), f"still {generation.status}"
    return generation


def make_generation(team, user=None, **fields):
    """A generation row as given, counted in the team's running totals as lifecycle.create counts one."""
    defaults = {"prompt": "a red bicycle", "size": "1:1", "n": 1}
    generation = Generation.objects.create(team=team, created_by=user, **{**defaults, **fields})
    totals.created(generation)
    return generation
