"""People watching a page over real HTTP, polling what its htmx polls, as the page does."""

import re
import threading
import time
from collections import Counter

import httpx
from django.conf import settings
from django.test import Client

POLL_SECONDS = 2.0  # the History panel's `every 2s`
HTMX = {"HX-Request": "true"}


def session_cookie(user):
    """A signed-in session for `user`, as the browser would hold it."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


class Viewer(threading.Thread):
    """Polls the History fragment (sending the version of the last answer, so an unchanged
    panel answers 204) and, once they are set, the `others` (url → its query), every
    POLL_SECONDS, until stopped: each with the version its last answer asks with, and no more
    once it answered 286, as htmx does."""

    def __init__(self, base_url, user, history_url, stop):
        super().__init__(daemon=True)
        headers = {**HTMX, "HX-Current-URL": f"{base_url}/"}  # the page the panel is on
        self.http = httpx.Client(base_url=base_url, cookies=session_cookie(user), headers=headers, timeout=60)
        self.history_url, self.stop = history_url, stop
        self.others = {}
        self.version = ""
        self.history_seconds, self.history_statuses = [], Counter()
        self.history_unchanged = []  # the seconds of the 204s among them
        self.other_seconds, self.other_statuses = [], Counter()
        self.errors = []

    def run(self):
        with self.http:
            while not self.stop.is_set():
                self.poll_history()
                self.poll_other()
                self.stop.wait(POLL_SECONDS)

    def poll_history(self):
        params = {"v": self.version} if self.version else {}
        response = self.timed(self.history_url, params, self.history_seconds, self.history_statuses)
        if response is not None and response.status_code == 204:
            self.history_unchanged.append(self.history_seconds[-1])
        if response is not None and response.status_code in (200, 286) and '"v": "' in response.text:
            self.version = response.text.split('"v": "')[1].split('"')[0]

    def poll_other(self):
        for url, query in list(self.others.items()):
            if query is None:
                continue  # it answered 286: the page stopped asking
            response = self.timed(url, query, self.other_seconds, self.other_statuses)
            if response is not None and response.status_code == 286:
                self.others[url] = None
            elif response is not None and response.status_code == 200:
                asked = re.search(r'hx-get="[^"]*[?;]v=([0-9a-f]+)', response.text)
                self.others[url] = {**query, "v": asked.group(1)} if asked else query

    def timed(self, url, params, seconds, statuses):
        started = time.perf_counter()
        try:
            response = self.http.get(url, params=params)
        except httpx.HTTPError as error:
            self.errors.append(repr(error))
            statuses["error"] += 1
            return None
        seconds.append(time.perf_counter() - started)
        statuses[str(response.status_code)] += 1
        return response
