"""People with the playground open, for locust: each signs in through the login form, then
does what its open page does (templates/studio/playground.html, static/playground/app.js):

- the History panel asks GET /history?v=<version> every 2 s while it shows something running
  (204: nothing changed; 200: a new panel; 286: a new panel with nothing running, which stops
  the polling until the next Generate);
- a new panel fires history-changed, on which the result card of a running generation fetches
  itself again (GET /generations/<id>);
- every image the page shows is fetched once, as the browser caches them for a day: the static
  files, the card's full images and the panel's and the references' thumbnails;
- every 20 to 40 s, once its last generation has finished, Generate with 1, 2 or 4 images, one
  time in four with a small reference uploaded first (POST /references); the panel then asks
  for itself at once (generation-queued).

Run by `manage.py loadtest` in locust's own process (gevent patches it, so no Django here). It
reads the people from LOADTEST_USERNAMES and LOADTEST_PASSWORD, and writes the figures the
command reports into the JSON file LOADTEST_REPORT when locust quits.
"""

import io
import itertools
import json
import os
import random
import re
import time
from urllib.parse import urlencode

from locust import FastHttpUser, events, task
from PIL import Image, ImageDraw
from urllib3 import encode_multipart_formdata

POLL_SECONDS = 2  # the History panel's "every 2s"
FIRST_GENERATE = (3, 15)  # seconds after the page opens: a prompt is typed first
GENERATE_EVERY = (20, 40)
IMAGE_COUNTS = (1, 2, 4)
REFERENCE_SHARE = 0.25
STUCK_SECONDS = 180  # a generation still running after this is given up on (and reported)
SIZES = ("1:1", "2:3", "3:2")
SUBJECTS = ("a lighthouse at dawn", "a red bicycle in the rain", "a paper boat on a pond", "a mountain cabin")
HTMX = {"HX-Request": "true"}

PEOPLE = itertools.cycle(os.environ.get("LOADTEST_USERNAMES", "").split(","))
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "")
REPORT_PATH = os.environ.get("LOADTEST_REPORT")

# Every generation submitted, by its public id: submitted and finished times (monotonic), status.
GENERATIONS = {}

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r'"x-csrftoken": "([^"]+)"')
TEAM_FIELD = re.compile(r'name="team" value="([^"]+)"')
HISTORY_TAG = re.compile(r'<aside id="history"[^>]*>')
VERSION = re.compile(r'"v": "([^"]+)"')
CARD_TAG = re.compile(r'<section id="result"[^>]*>')
CARD_ID = re.compile(r'data-generation="([^"]+)"')
CARD_STATUS = re.compile(r'class="badge badge-(\w+)"')
REFERENCE_ID = re.compile(r'name="references" value="([^"]+)"')
STATIC = re.compile(r'(?:src|href)="(/static/[^"]+)"')
IMAGES = re.compile(r'src="(/(?:images|references)/[0-9a-f-]+/(?:full|thumb))"')


def endpoint(url):
    """The name a URL is counted under: ids replaced by [id]."""
    if url.startswith("/static/"):
        return "/static/*"
    return re.sub(r"/[0-9a-f]{8}-[0-9a-f-]{27}", "/[id]", url)


def expect(response, *statuses):
    if response.status_code in statuses:
        response.success()
    elif response.status_code == 0:
        response.failure(f"no answer: {getattr(response, 'error', None)!r}")
    else:
        response.failure(f"HTTP {response.status_code}, expected {' or '.join(map(str, statuses))}")
    return response.status_code in statuses


def reference_png():
    """A small picture of its own each time, as people upload different photos."""
    image = Image.linear_gradient("L").resize((384, 384)).convert("RGB")
    colour = tuple(random.randrange(256) for _ in range(3))
    corner = random.randrange(200)
    ImageDraw.Draw(image).rectangle((corner, corner, corner + 150, corner + 120), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Person(FastHttpUser):
    def wait_time(self):
        """Ticks start every POLL_SECONDS, however long the last one took (as htmx's timer)."""
        return max(0.0, POLL_SECONDS - (time.monotonic() - self.tick_started))

    def on_start(self):
        self.tick_started = time.monotonic()
        self.username = next(PEOPLE)
        self.fetched = set()  # what the browser holds in its cache
        self.version = ""
        self.polling = False
        self.card = None  # (public id, running) of the generation the result card shows
        self.card_since = 0.0
        self.card_status = None
        self.next_generate = time.monotonic() + random.uniform(*FIRST_GENERATE)
        self.sign_in()
        self.open_playground()

    # -- what the person does -------------------------------------------------------

    @task
    def tick(self):
        """POLL_SECONDS of the open page: Generate when it is time, else the History panel's poll.

        One tick per task, so that when the run ends locust lets the tick under way finish
        (--stop-timeout) instead of killing a request half-way."""
        self.tick_started = time.monotonic()
        if self.tick_started >= self.next_generate and not self.waiting_for_result():
            self.generate()
            self.next_generate = time.monotonic() + random.uniform(*GENERATE_EVERY)
        elif self.polling:
            self.poll_history()

    def sign_in(self):
        with self.client.get("/accounts/login/", name="GET /accounts/login/", catch_response=True) as response:
            if not expect(response, 200):
                raise RuntimeError("the sign-in page did not open")
        form = {"username": self.username, "password": PASSWORD, "next": "",
                "csrfmiddlewaretoken": CSRF_FIELD.search(response.text).group(1)}
        with self.post_form("/accounts/login/", urlencode(form), "application/x-www-form-urlencoded",
                            allow_redirects=False, htmx=False) as response:
            if not expect(response, 302):
                raise RuntimeError("sign-in refused")

    def open_playground(self):
        with self.client.get("/", name="GET /", allow_redirects=False, catch_response=True) as response:
            if not expect(response, 200):
                raise RuntimeError("the playground did not open")
        page = response.text
        self.csrf = CSRF_HEADER.search(page).group(1)
        self.team = TEAM_FIELD.search(page).group(1)
        self.read_history(page)
        self.read_card(page)
        self.fetch(STATIC.findall(page) + IMAGES.findall(page))

    def poll_history(self):
        url = "/history?" + urlencode({"v": self.version})
        with self.client.get(url, name="GET /history", headers=HTMX, catch_response=True) as response:
            if not expect(response, 200, 204, 286) or response.status_code == 204:
                return
        self.read_history(response.text)
        self.fetch(IMAGES.findall(response.text))
        if self.card and self.card[1]:  # history-changed: a running card fetches itself again
            self.refresh_card()

    def refresh_card(self):
        url = f"/generations/{self.card[0]}"
        with self.client.get(url, name=f"GET {endpoint(url)}", headers=HTMX, catch_response=True) as response:
            if not expect(response, 200):
                return
        self.read_card(response.text)
        self.fetch(IMAGES.findall(response.text))

    def generate(self):
        fields = [("csrfmiddlewaretoken", self.csrf), ("team", self.team),
                  ("prompt", f"{random.choice(SUBJECTS)}, load test by {self.username}"),
                  ("size", random.choice(SIZES)), ("n", str(random.choice(IMAGE_COUNTS))), ("callback_url", "")]
        if random.random() < REFERENCE_SHARE:
            reference = self.upload_reference()
            if reference is None:
                return
            fields.append(("references", reference))
        body, content_type = encode_multipart_formdata(fields)
        with self.post_form("/generate", body, content_type) as response:
            if not expect(response, 200):
                return
            if not CARD_ID.search(response.text):
                response.failure("no generation in the answer: " + " ".join(response.text.split())[:200])
                return
        self.read_card(response.text)
        GENERATIONS[self.card[0]] = {"submitted": time.monotonic(), "finished": None, "status": "running"}
        self.note_finished()
        self.fetch(IMAGES.findall(response.text))
        self.poll_history()  # generation-queued

    def upload_reference(self):
        fields = [("csrfmiddlewaretoken", self.csrf), ("team", self.team),
                  ("images", ("photo.png", reference_png(), "image/png"))]
        body, content_type = encode_multipart_formdata(fields)
        with self.post_form("/references", body, content_type) as response:
            if not expect(response, 200):
                return None
            found = REFERENCE_ID.search(response.text)
            if not found:
                response.failure("the reference was not taken: " + " ".join(response.text.split())[:200])
                return None
        self.fetch(IMAGES.findall(response.text))
        return found.group(1)

    # -- what the page shows ----------------------------------------------------------

    def read_history(self, fragment):
        tag = HISTORY_TAG.search(fragment).group(0)
        self.version = VERSION.search(tag).group(1)
        self.polling = "data-poll" in tag

    def read_card(self, fragment):
        tag = CARD_TAG.search(fragment).group(0)
        found = CARD_ID.search(tag)
        if not found:
            self.card = None
            return
        running = "hx-trigger" in tag
        if not self.card or self.card[0] != found.group(1):
            self.card_since = time.monotonic()
        self.card = (found.group(1), running)
        status = CARD_STATUS.search(fragment)
        self.card_status = status.group(1) if status else "unknown"
        self.note_finished()

    def note_finished(self):
        generation = GENERATIONS.get(self.card[0]) if self.card else None
        if generation and not self.card[1] and generation["finished"] is None:
            generation.update(finished=time.monotonic(), status=self.card_status)

    def waiting_for_result(self):
        """People wait for their images before the next Generate, though not for ever."""
        return bool(self.card and self.card[1] and time.monotonic() - self.card_since < STUCK_SECONDS)

    def fetch(self, urls):
        for url in dict.fromkeys(urls):
            if url not in self.fetched:
                self.fetched.add(url)
                with self.client.get(url, name=f"GET {endpoint(url)}", catch_response=True) as response:
                    expect(response, 200)

    def post_form(self, url, body, content_type, allow_redirects=True, htmx=True):
        headers = {"Content-Type": content_type, **(HTMX if htmx else {})}
        if htmx:
            headers["X-CSRFToken"] = self.csrf
        return self.client.post(url, data=body, headers=headers, name=f"POST {url}",
                                allow_redirects=allow_redirects, catch_response=True)


@events.quitting.add_listener
def write_report(environment, **_kwargs):
    if REPORT_PATH:
        with open(REPORT_PATH, "w") as report:
            json.dump(figures(environment.stats), report, indent=2)


def figures(stats):
    total = stats.total
    endpoints = [
        {
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": round(entry.max_response_time or 0),
        }
        for entry in stats.entries.values()
    ]
    finished = [g for g in GENERATIONS.values() if g["finished"] is not None]
    return {
        "seconds": round((total.last_request_timestamp or total.start_time) - total.start_time, 1),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "endpoints": sorted(endpoints, key=lambda row: row["name"]),
        "errors": [{"name": error.name, "error": str(error.error), "count": error.occurrences}
                   for error in stats.errors.values()],
        "generations": {
            "submitted": len(GENERATIONS),
            "finished_by_status": dict(sorted(
                (status, sum(1 for g in finished if g["status"] == status)) for status in {g["status"] for g in finished}
            )),
            "seen_running_at_end": len(GENERATIONS) - len(finished),
            "seconds_to_result": [round(g["finished"] - g["submitted"], 2) for g in finished],
        },
    }
