"""Scripts that use the gateway as they would use the vendor's API: each creates a task,
polls it every POLL_SECONDS until it ends, opens its first result link, and starts the next."""

import secrets
import threading
import time
from collections import defaultdict

import httpx
from django.contrib.auth import get_user_model
from django.db import transaction

from devtools.figures import percentiles
from playground.teams import tokens
from playground.teams.models import Membership, Team

FINISHED = ("completed", "failed", "cancelled")
TASK_TIMEOUT_SECONDS = 300  # the vendor's advice: give up polling after 5 minutes


@transaction.atomic
def create_scripts(count):
    """One team, one member per script, each with a personal token; their plain texts."""
    run = secrets.token_hex(3)
    team = Team.objects.create(name=f"Gateway load {run}", slug=f"gateway-load-{run}")
    plains = []
    for number in range(1, count + 1):
        user = get_user_model().objects.create(username=f"gateway-load-{run}-{number}")
        Membership.objects.create(team=team, user=user, role=Membership.Role.MEMBER)
        plains.append(tokens.issue(team, user, name=f"load script {number}")[1])
    return team, plains


class Tally:
    """Every request's time by endpoint, and what went wrong, from all scripts at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seconds = defaultdict(list)
        self.errors = defaultdict(int)
        self.messages = defaultdict(int)
        self.tasks = defaultdict(int)
        self.task_seconds = []

    def request(self, http, name, method, url, **options):
        started = time.perf_counter()
        try:
            response = http.request(method, url, **options)
        except httpx.HTTPError as exc:
            self.failed(name, time.perf_counter() - started, type(exc).__name__)
            return None
        elapsed = time.perf_counter() - started
        if not response.is_success:
            self.failed(name, elapsed, f"HTTP {response.status_code}: {response.text[:120]}")
            return None
        with self.lock:
            self.seconds[name].append(elapsed)
        return response

    def failed(self, name, elapsed, message):
        with self.lock:
            self.seconds[name].append(elapsed)
            self.errors[name] += 1
            self.messages[f"{name}: {message}"] += 1

    def task_ended(self, status, seconds):
        with self.lock:
            self.tasks[status] += 1
            self.task_seconds.append(seconds)


def run_script(url, plain, creates, poll_seconds, tally):
    headers = {"Authorization": f"Bearer {plain}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for number in range(creates):
            body = {"model": "gpt-4o-image", "prompt": f"load test picture {number}", "size": "1:1"}
            created = tally.request(http, "POST /v1/images/generations", "POST", "/v1/images/generations", json=body)
            if created is None:
                continue
            task_id, started = created.json()["id"], time.monotonic()
            status, task = "pending", {}
            while status not in FINISHED and time.monotonic() - started < TASK_TIMEOUT_SECONDS:
                time.sleep(poll_seconds)
                polled = tally.request(http, "GET /v1/tasks/{id}", "GET", f"/v1/tasks/{task_id}")
                if polled is not None:
                    task = polled.json()
                    status = task["status"]
            tally.task_ended(status if status in FINISHED else "timed out", time.monotonic() - started)
            if status == "completed":
                tally.request(http, "GET result link", "GET", task["results"][0])
            elif status != "completed":
                tally.failed("task", 0, f"task ended {status}")


def run_scripts(url, plains, creates, poll_seconds):
    """Run every script at once; the figures."""
    tally = Tally()
    threads = [
        threading.Thread(target=run_script, args=(url, plain, creates, poll_seconds, tally), daemon=True)
        for plain in plains
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    requests = sum(len(samples) for samples in tally.seconds.values())
    endpoints = []
    for name, samples in sorted(tally.seconds.items()):
        found = percentiles(samples, scale=1000, digits=1)
        endpoints.append({"name": name, "requests": found["count"], "p50_ms": found["p50"], "p95_ms": found["p95"],
                          "max_ms": found["max"], "errors": tally.errors.get(name, 0)})
    return {
        "scripts": len(plains),
        "creates_per_script": creates,
        "seconds": round(seconds, 1),
        "requests": requests,
        "rps": round(requests / max(seconds, 0.001), 1),
        "errors": sum(tally.errors.values()),
        "error_messages": dict(tally.messages),
        "endpoints": endpoints,
        "tasks": dict(tally.tasks),
        "create_to_end_seen_s": percentiles(tally.task_seconds),
    }


def text(figures):
    lines = [
        f"Gateway load: {figures['scripts']} scripts x {figures['creates_per_script']} creates and polls "
        f"against {figures['target']}",
        f"Requests: {figures['requests']} in {figures['seconds']} s = {figures['rps']} per second; "
        f"errors: {figures['errors']}",
        "",
        f"{'endpoint':<30}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}",
    ]
    for row in figures["endpoints"]:
        lines.append(f"{row['name']:<30}{row['requests']:>9}{row['p50_ms']:>9}{row['p95_ms']:>9}"
                     f"{row['max_ms']:>9}{row['errors']:>8}")
    seen = figures["create_to_end_seen_s"]
    lines += [
        "",
        f"Tasks: {figures['tasks']}; create to end as the scripts saw it: p50 {seen.get('p50')} s, "
        f"p95 {seen.get('p95')} s, max {seen.get('max')} s",
        f"In the database: {figures['database']['by_status']}; images stored {figures['database']['images_stored']} "
        f"of {figures['database']['images_asked']}",
        f"'database is locked' in the logs: {figures['database_locked']}",
    ]
    lines += [f"  error: {message} ({count} times)" for message, count in figures["error_messages"].items()]
    return "\n".join(lines)
