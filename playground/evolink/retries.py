"""Which failed calls are sent again, and after how long.

1. A 429, 502 or 503, a timeout or a dropped connection is retried up to `max_retries`
   times, waiting as Retry-After says (at most RETRY_AFTER_CAP) or backing off.
2. A POST that may have reached the server (a read timeout, a dropped connection, an
   unreadable reply) is not retried: sending it again could start and bill a second task.
3. Anything else is raised at once, as the typed error it is.
"""

import tenacity

from . import errors

RETRY_AFTER_CAP = 30.0
# Failures after a request went out with no readable answer: the service may have acted on it.
UNANSWERED = (errors.UpstreamTimeout, errors.ConnectionDropped, errors.InvalidResponse)


def policy(method, *, max_retries, backoff, sleep):
    """A tenacity `Retrying` for one call: `policy(...)(send, ...)` returns or raises the last error."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda error: worth_sending_again(error, method)),
        stop=tenacity.stop_after_attempt(max_retries + 1),
        wait=wait_as_asked(tenacity.wait_exponential(multiplier=backoff)),
        sleep=sleep,
        reraise=True,
    )


def worth_sending_again(error, method):
    if not isinstance(error, errors.EvoLinkError) or not error.retryable:
        return False
    # A POST that may have reached the service is never resent: it could bill twice.
    return not (method == "POST" and isinstance(error, UNANSWERED))


def wait_as_asked(backoff):
    """Wait the seconds the error's Retry-After asks for, capped; without one, as `backoff` says."""

    def wait(retry_state):
        retry_after = retry_state.outcome.exception().retry_after
        if retry_after is not None:
            return min(retry_after, RETRY_AFTER_CAP)
        return backoff(retry_state)

    return wait
