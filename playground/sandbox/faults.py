"""Fault switches: make the next API replies fail, slow down, or turn tasks bad; and
style switches: answer as the vendor does in one of the ways it has been seen to.

The switches live in faults.json in the data dir, so every thread sees the same
ones and they survive a restart; the lock keeps counters exact under threads.
"""

import json
import threading

from django.conf import settings

from . import store
from .errors import FAILURE_MESSAGES, ApiError

ERROR_STATUSES = (429, 500, 502, 503)
COUNTERS = ("error_count", "non_json_count", "drop_count", "download_drop_count", "retry_after")
DURATIONS = ("slow_seconds", "download_seconds", "link_ttl", "task_seconds", "file_lifetime")
# Switches that take one of a few values; the first is what the sandbox does without it.
CHOICES = {
    "mask_reading": ("alpha", "white"),
    "results_field": ("both", "results", "result_data"),
    "quota_status": (403, 200),
}
FLAGS = ("credits_used", "request_id_field")
MAX_REASON = 500

_lock = threading.Lock()


def _path():
    return store.folder() / "faults.json"


def current():
    return store.read_json(_path()) or {}


def validated(changes):
    if not isinstance(changes, dict):
        raise ApiError(400, "Send the fault switches as a JSON object.")
    for name, value in changes.items():
        if value is None:
            continue
        if name == "error_status":
            ok = value in ERROR_STATUSES and isinstance(value, int)
            rule = "one of 429, 500, 502, 503"
        elif name in COUNTERS:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            rule = "a whole number, 0 or more"
        elif name in DURATIONS:
            ok = (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and 0 <= value <= 86400 * 7
            )
            rule = "a number of seconds, 0 or more"
        elif name in CHOICES:
            ok = value in CHOICES[name] and type(value) is type(CHOICES[name][0])
            rule = "one of " + ", ".join(map(str, CHOICES[name]))
        elif name in FLAGS:
            ok = isinstance(value, bool)
            rule = "true or false"
        elif name == "max_files":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            rule = "a whole number, 0 or more"
        elif name == "cancel_reason":
            ok = isinstance(value, str) and 0 < len(value.strip()) <= MAX_REASON
            rule = f"a sentence of at most {MAX_REASON} characters"
        elif name == "fail_code":
            ok = value in FAILURE_MESSAGES
            rule = "a task failure code: " + ", ".join(FAILURE_MESSAGES)
        else:
            raise ApiError(400, f"Unknown fault switch {name!r}.", param=name)
        if not ok:
            raise ApiError(400, f"{name} must be {rule}.", param=name)
    return changes


def merge(changes):
    """Apply switches; a switch set to null is removed."""
    validated(changes)
    with _lock:
        switches = current()
        switches.update(changes)
        switches = {name: value for name, value in switches.items() if value is not None}
        store.write_json(_path(), switches)
    return switches


def reset():
    with _lock:
        store.write_json(_path(), {})
    return {}


def apply_environment():
    """SANDBOX_FAULTS, when set, is merged into the switches at start."""
    if settings.SANDBOX_FAULTS:
        try:
            merge(json.loads(settings.SANDBOX_FAULTS))
        except (ValueError, ApiError) as exc:
            raise SystemExit(f"SANDBOX_FAULTS is not valid: {exc}") from None


def take_reply_fault():
    """(delay in seconds, fault) for the next API reply, consuming one counter.

    The fault is ("error", status, retry_after), ("non_json",), ("drop",) or None.
    """
    with _lock:
        switches = current()
        fault = None
        if _take(switches, "error_count"):
            fault = ("error", switches.get("error_status", 500), switches.get("retry_after", 1))
        elif _take(switches, "non_json_count"):
            fault = ("non_json",)
        elif _take(switches, "drop_count"):
            fault = ("drop",)
        if fault:
            store.write_json(_path(), switches)
    return switches.get("slow_seconds", 0), fault


def take_download_fault():
    """(delay in seconds, True when this download is to be cut off mid-body) for a result link."""
    with _lock:
        switches = current()
        drop = _take(switches, "download_drop_count")
        if drop:
            store.write_json(_path(), switches)
    return switches.get("download_seconds", 0), drop


def _take(switches, counter):
    if switches.get(counter, 0) > 0:
        switches[counter] -= 1
        return True
    return False
