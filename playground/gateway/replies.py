"""Generations in the vendor's reply shapes: the created task, the queried task, credits,
and file hosting's upload reply."""

from datetime import timedelta

from django.utils import timezone

from playground.evolink.contract import HOSTED_FILE_SECONDS, MODEL, failed_task_error
from playground.generations import credits
from playground.generations.models import Status

from . import links

# The app's states, as the vendor's task statuses.
TASK_STATUS = {
    Status.WAITING: "pending",
    Status.QUEUED: "pending",
    Status.SUBMITTING: "pending",
    Status.PENDING: "pending",
    Status.PROCESSING: "processing",
    Status.INGESTING: "processing",  # done upstream, the images being saved: not yet here
    Status.COMPLETED: "completed",
    Status.FAILED: "failed",
    Status.EXPIRED: "failed",
    Status.CANCELLED: "cancelled",
}


def number(amount):
    return float(amount) if amount is not None else None


def task_id(generation):
    return str(generation.public_id)


def base(generation):
    return {
        "created": int(generation.created_at.timestamp()),
        "id": task_id(generation),
        "model": MODEL,
        "object": "image.generation.task",
        "progress": progress(generation),
        "status": TASK_STATUS[generation.status],
        "type": "image",
    }


def progress(generation):
    if generation.status == Status.COMPLETED:
        return 100
    return min(generation.progress, 99)


def usage(generation):
    found = {"billing_rule": "per_call", "credits_reserved": number(generation.credits_estimated), "user_group": "default"}
    if generation.finished_at:
        found["credits_used"] = number(credits.charge(generation))
    return found


def created(generation):
    """The reply to a create: the task as it starts."""
    return {
        **base(generation),
        "task_info": {"can_cancel": False, "estimated_time": generation.estimated_seconds or 45},
        "usage": usage(generation),
    }


def task(generation, where):
    """The task as a query (or a callback) answers it; `where` is the request or base URL its
    result links are written against. The links are signed anew on every call."""
    reply = {**base(generation), "task_info": {"can_cancel": False}, "usage": usage(generation)}
    if generation.is_running and generation.estimated_seconds:
        reply["task_info"]["estimated_time"] = generation.estimated_seconds
    if generation.status == Status.COMPLETED:
        results = [links.url(where, "result", image, generation.team_id) for image in generation.images.all()]
        reply["results"] = results
        reply["result_data"] = [{"image_url": link} for link in results]
    elif not generation.is_running:
        reply["error"] = failure(generation)
    return reply


def failure(generation):
    code = generation.error_code or ("generation_timeout" if generation.status == Status.EXPIRED else "unknown_error")
    if generation.status == Status.CANCELLED:
        code = generation.error_code or "request_cancelled"
    return failed_task_error(code, generation.error_message or "The generation did not complete.")


def credits_reply(figures):
    return {"data": figures, "message": "", "success": True}


def file_saved(request, reference, *, upload_path=""):
    link = links.url(request, "file", reference, reference.team_id)
    uploaded = reference.created_at
    return {
        "success": True,
        "code": 200,
        "msg": "File uploaded.",
        "data": {
            "file_id": str(reference.public_id),
            "file_name": reference.original_name,
            "original_name": reference.original_name,
            "file_size": reference.bytes,
            "mime_type": reference.content_type,
            "upload_path": upload_path,
            "file_url": link,
            "download_url": link,
            "upload_time": uploaded.isoformat(),
            "expires_at": (timezone.now() + timedelta(seconds=HOSTED_FILE_SECONDS)).isoformat(),
        },
    }
