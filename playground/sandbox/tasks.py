"""Tasks: written once as one JSON file each; their state is derived from the clock.

A task never changes after creation, so a restart loses nothing and a query
needs one small file read, however many tasks there are.
"""

import math
import re
import secrets
import string
import threading
import time

from django.conf import settings

from playground.evolink.contract import FINISHED_STATUSES

from . import faults, images, links, references, store
from .errors import ApiError, cancelled_error, failure_error

TASK_ID = re.compile(r"task-unified-\d+-[a-z0-9]{8}")
ALPHABET = string.ascii_lowercase + string.digits
PENDING_SHARE = 0.1  # the first tenth of a task's time reads "pending"

_credits_lock = threading.Lock()
_credits_reserved = 0.0  # since this process started: a cheap stand-in for an account balance


def path(task_id):
    return store.folder("tasks") / f"{task_id}.json"


def new_id(now):
    return f"task-unified-{int(now)}-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def first_set(*values):
    return next(value for value in values if value is not None)


def create(cleaned):
    """Store a new task from a checked request (see validation.clean_generation)."""
    switches = faults.current()
    now = time.time()
    task_id = new_id(now)
    credits = round(settings.SANDBOX_CREDITS_PER_IMAGE * cleaned["n"], 4)
    reserve_credits(credits)
    fail_code = (
        cleaned["fail_code"]
        or switches.get("fail_code")
        or references.collect(task_id, cleaned["image_urls"], cleaned["mask_url"])
        or (None if cleaned["produce"] else "generation_failed_no_content")
    )
    task = {
        "id": task_id,
        "created": now,
        **cleaned,
        "seconds": first_set(
            cleaned["seconds"], switches.get("task_seconds"), settings.SANDBOX_TASK_SECONDS
        ),
        "fail_code": fail_code,
        "link_ttl": first_set(switches.get("link_ttl"), settings.SANDBOX_LINK_TTL),
        "credits_reserved": credits,
        "cancel_reason": cleaned["cancel_reason"] or switches.get("cancel_reason"),
        "mask_reading": switches.get("mask_reading", settings.SANDBOX_MASK_READING),
        "style": reply_style(switches),
    }
    store.write_json(path(task_id), task)
    return task


def reply_style(switches):
    """How this task's replies look, fixed at creation so every query agrees."""
    return {
        "results_field": switches.get("results_field", "both"),
        "credits_used": switches.get("credits_used", False),
        "request_id_field": switches.get("request_id_field", False),
    }


def load(task_id):
    if not TASK_ID.fullmatch(task_id):
        return None
    return store.read_json(path(task_id))


def reserve_credits(amount):
    global _credits_reserved
    with _credits_lock:
        if _credits_reserved + amount > settings.SANDBOX_CREDITS:
            raise ApiError(402, "Insufficient credits for this request.", code="insufficient_quota")
        _credits_reserved += amount


def credits_reply():
    used = round(_credits_reserved, 4)
    balance = {"remaining_credits": round(settings.SANDBOX_CREDITS - used, 4), "used_credits": used}
    return {
        "data": {"token": {**balance, "unlimited_credits": False}, "user": balance},
        "message": "",
        "success": True,
    }


def ending(task):
    if task.get("cancel_reason"):
        return "cancelled"
    return "failed" if task["fail_code"] else "completed"


def finish_time(task):
    return task["created"] + task["seconds"]


def state(task, now):
    """(status, progress) at time now: pending, then processing 1..99, then the end."""
    elapsed = now - task["created"]
    seconds = task["seconds"]
    if elapsed >= seconds:
        return ending(task), 100
    if elapsed < seconds * PENDING_SHARE:
        return "pending", 0
    share = (elapsed - seconds * PENDING_SHARE) / (seconds * (1 - PENDING_SHARE))
    return "processing", min(99, 1 + int(share * 98))


def link_expiry(task):
    # Fixed at creation, so every query hands out the very same links.
    return math.floor(finish_time(task) + task["link_ttl"])


def result_urls(task):
    expires = link_expiry(task)
    return [links.result_url(task["id"], index, expires) for index in range(task["produce"])]


def summary(task, status, progress):
    return {
        "created": int(task["created"]),
        "id": task["id"],
        "model": task["model"],
        "object": "image.generation.task",
        "progress": progress,
        "status": status,
        "task_info": {"can_cancel": True, "estimated_time": math.ceil(task["seconds"])},
        "type": "image",
        "usage": {
            "billing_rule": "per_call",
            "credits_reserved": task["credits_reserved"],
            "user_group": "default",
        },
    }


def created_reply(task, request_id=None):
    return with_request_id(task, summary(task, "pending", 0), request_id)


def reply(task, request_id=None):
    """The task as GET /v1/tasks/{id} answers it now, in the style it was created with."""
    status, progress = state(task, time.time())
    style = task.get("style") or reply_style({})
    body = summary(task, status, progress)
    if status == "completed":
        urls = result_urls(task)
        if style["results_field"] != "result_data":
            body["results"] = urls
        if style["results_field"] != "results":
            body["result_data"] = [{"image_url": url} for url in urls]
    if status == "failed":
        body["error"] = failure_error(task["fail_code"])
    if status == "cancelled":
        body["error"] = cancelled_error(task["cancel_reason"])
    if status in FINISHED_STATUSES:
        body["task_info"] = {"can_cancel": False}
        if style["credits_used"]:
            body["usage"]["credits_used"] = credits_used(task, status)
    return with_request_id(task, body, request_id)


def credits_used(task, status):
    """The charge: the images actually produced, nothing for a task that made none."""
    produced = task["produce"] if status == "completed" else 0
    return round(settings.SANDBOX_CREDITS_PER_IMAGE * produced, 4)


def with_request_id(task, body, request_id):
    style = task.get("style") or reply_style({})
    if request_id and style["request_id_field"]:
        body["request_id"] = request_id
    return body


def result_png(task, index):
    """The PNG of one result, rendered on first request and kept."""
    cached = store.folder("results") / f"{task['id']}-{index}.png"
    try:
        return cached.read_bytes()
    except FileNotFoundError:
        pass
    reference_images, mask = references.load(task)
    data = images.render(
        task["prompt"], index, task["size"], reference_images, mask, task.get("mask_reading", "alpha")
    )
    store.write_bytes(cached, data)
    return data


def has_result(task, index):
    return state(task, time.time())[0] == "completed" and 0 <= index < task["produce"]
