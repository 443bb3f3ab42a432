"""A record of the calls the sandbox served, so a demo or a test can see what the app asked.

Kept in memory (the sandbox is one process), the latest MAX_CALLS only. Query strings are
left out: result links carry signatures.
"""

import threading
import time
from collections import deque

from playground.evolink.contract import IDEMPOTENCY_HEADER

MAX_CALLS = 20_000

_calls = deque(maxlen=MAX_CALLS)
_lock = threading.Lock()


def record(request, started, status, dropped=False, replayed=False):
    """One served call; `dropped` when a fault cut its connection off mid-body, `replayed`
    when a keyed create answered a task made before (so it made none).

    The Idempotency-Key it carried is kept, so a test can see a client's retries share one.
    """
    call = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "dropped": dropped,
        "started": started,
        "ended": time.time(),
        "idempotency_key": request.headers.get(IDEMPOTENCY_HEADER),
        "replayed": replayed,
    }
    with _lock:
        _calls.append(call)


def recorded():
    with _lock:
        return list(_calls)


def forget():
    with _lock:
        _calls.clear()
