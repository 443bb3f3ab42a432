"""Browser fixtures and helpers, shared by every test that drives Chromium.

Registered as a plugin in conftest.py, so tests ask for `browser`, `page`, `tracker` or
`watch` by name. Debian's chromium, headless, driven by Playwright.
"""

import os
import re
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from playground.generations.tracker import Tracker

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic would try to leave the machine; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")
# Generous: CI machines have two cores, shared with the sandbox and the live server.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # around it are still plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tracker():
    stop = threading.Event()
    thread = threading.Thread(target=Tracker().run_forever, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


def session_cookie(user, url):
    """A signed-in session for `user`, as the cookie a browser would hold for `url`."""
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": url}


def signed_in_page(context, live_server, user):
    """A page on the playground, signed in as `user` with a session cookie (quicker than the
    form, which signed_in_through_the_form and its test in tests/test_browser.py go through)."""
    context.add_cookies([session_cookie(user, live_server.url)])
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Create images")).to_be_visible()
    return page


def signed_in_through_the_form(context, live_server, user):
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Create images")).to_be_visible()
    return page


@pytest.fixture
def page(browser, live_server, owner):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    yield signed_in_page(context, live_server, owner)
    context.close()


def screenshot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


class Watch:
    """Opens browser contexts and records what should never happen in them."""

    def __init__(self, chromium, allowed_hosts):
        self.browser = chromium
        self.allowed_hosts = allowed_hosts
        self.contexts = []
        self.console_errors = []
        self.page_errors = []
        self.foreign_requests = []
        self.expected_errors = []  # patterns of console errors a test provokes on purpose

    def new_context(self, **options):
        context = self.browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        context.on("request", self.on_request)
        context.on("console", self.on_console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        self.contexts.append(context)
        return context

    def on_request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc not in self.allowed_hosts:
            self.foreign_requests.append(request.url)

    def on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def expect_console_error(self, pattern):
        self.expected_errors.append(re.compile(pattern))

    def unexpected_console_errors(self):
        return [
            text
            for text in self.console_errors
            if not any(pattern.search(text) for pattern in self.expected_errors)
        ]

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def watch(browser, live_server, sandbox):
    watching = Watch(browser, {urlsplit(live_server.url).netloc, urlsplit(sandbox.url).netloc})
    yield watching
    watching.close()
    assert watching.unexpected_console_errors() == [], "console errors"
    assert watching.page_errors == [], "uncaught script errors"
    assert watching.foreign_requests == [], "requests to other hosts"
