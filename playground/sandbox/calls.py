"""A record of the calls the sandbox served, so a demo or a test can see what the app asked.

Kept in memory (the sandbox is one process), the latest MAX_CALLS only. Query strings are
left out: result links carry signatures.
"""

import threading
import time
from collections import deque

MAX_CALLS = 20_000

_calls = deque(maxlen=MAX_CALLS)
_lock = threading.Lock()


def record(request, started, status, dropped=False):
    """One served call; `dropped` when a fault cut its connection off mid-body."""
    call = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "dropped": dropped,
        "started": started,
        "ended": time.time(),
    }
    with _lock:
        _calls.append(call)


def recorded():
    with _lock:
        return list(_calls)


def forget():
    with _lock:
        _calls.clear()
