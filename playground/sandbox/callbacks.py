"""Callbacks: POST a task's final reply to its callback_url when it ends.

As upstream: a 10 s timeout, then up to 3 retries after 1 s, 2 s and 4 s; any
2xx counts as delivered. Each undelivered callback is marked by an empty file in
callbacks/, so a restart resumes them without reading every task.
"""

import heapq
import threading
import time

from . import fetch, store, tasks

RETRY_DELAYS = (1, 2, 4)

_due = []  # heap of (when, task_id)
_wakeup = threading.Condition()
_worker = None


def marker(task_id):
    return store.folder("callbacks") / task_id


def schedule(task):
    marker(task["id"]).touch()
    queue(task)


def queue(task):
    with _wakeup:
        heapq.heappush(_due, (tasks.finish_time(task), task["id"]))
        _wakeup.notify()
    start_worker()


def resume():
    """Queue the callbacks a previous run left undelivered."""
    for path in store.folder("callbacks").iterdir():
        task = tasks.load(path.name)
        if task:
            queue(task)
        else:
            path.unlink(missing_ok=True)


def start_worker():
    global _worker
    with _wakeup:
        if _worker is None:
            _worker = threading.Thread(target=run, name="sandbox-callbacks", daemon=True)
            _worker.start()


def run():
    while True:
        with _wakeup:
            while not _due or _due[0][0] > time.time():
                _wakeup.wait(_due[0][0] - time.time() if _due else None)
            _, task_id = heapq.heappop(_due)
        # A slow receiver must not hold up the others.
        threading.Thread(target=deliver, args=(task_id,), daemon=True).start()


def deliver(task_id):
    task = tasks.load(task_id)
    if task is None:  # its file was removed by hand: nothing to say
        marker(task_id).unlink(missing_ok=True)
        return
    body = tasks.reply(task)
    for delay in (0, *RETRY_DELAYS):
        time.sleep(delay)
        try:
            if fetch.post_json(task["callback_url"], body):
                break
        except fetch.FetchError:
            break  # a private or unresolvable address: retrying will not help
    marker(task_id).unlink(missing_ok=True)
