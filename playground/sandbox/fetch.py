"""Fetching other people's URLs without becoming a way into private networks.

As upstream: https only, no internal addresses, each redirect checked again (see
`playground.outbound`); SANDBOX_ALLOW_PRIVATE_URLS lifts that for local development.
"""

import httpx
from django.conf import settings

from playground import outbound

TIMEOUT = 10.0


class FetchError(Exception):
    pass


class TooLarge(FetchError):
    pass


def guarded_client():
    return outbound.client(allow_private=settings.SANDBOX_ALLOW_PRIVATE_URLS, timeout=TIMEOUT)


def fetch(url, max_bytes):
    """GET url and return its body, following up to 3 checked redirects."""
    try:
        with guarded_client() as http:
            status, body = outbound.download(http, url, max_bytes)
    except outbound.TooLarge as exc:
        raise TooLarge(str(exc)) from None
    except outbound.Refused as exc:
        raise FetchError(str(exc)) from None
    except httpx.HTTPError as exc:
        raise FetchError(f"The URL could not be fetched ({type(exc).__name__}).") from None
    if status != 200:
        raise FetchError(f"The URL answered HTTP {status}.")
    return body


def post_json(url, body):
    """Deliver a callback; True when the receiver answered 2xx. FetchError for a refused address."""
    try:
        with guarded_client() as http:
            response = http.post(url, json=body, follow_redirects=False)
    except outbound.Refused as exc:
        raise FetchError(str(exc)) from None
    except httpx.HTTPError:
        return False
    return response.is_success
