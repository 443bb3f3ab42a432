"""The EvoLink client a team's work goes through."""

from functools import lru_cache

from django.conf import settings

from playground.evolink.client import EvoLinkClient

POLL_TIMEOUT = 10.0


def client_for(team, *, polling=False):
    """A client for the team's upstream: the configured EvoLink account or the sandbox.

    Polls make one short attempt and never sleep in the client: the tracker asks again
    on its next pass (honouring Retry-After), and a poll must end well inside its lease.
    """
    return _shared_client(
        settings.EVOLINK_BASE_URL,
        settings.EVOLINK_FILES_BASE_URL,
        settings.EVOLINK_API_KEY or settings.SANDBOX_API_KEY,
        POLL_TIMEOUT if polling else settings.EVOLINK_TIMEOUT,
        0 if polling else settings.EVOLINK_MAX_RETRIES,
    )


@lru_cache(maxsize=32)
def _shared_client(base_url, files_base_url, api_key, timeout, max_retries):
    # One client per upstream, shared by all threads: it keeps connections open, and
    # building one costs ~30 ms (TLS set-up), which would cap a tracker at ~30 polls/s.
    return EvoLinkClient(
        base_url, api_key, files_base_url=files_base_url, timeout=timeout, max_retries=max_retries
    )
