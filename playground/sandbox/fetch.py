"""Fetching other people's URLs without becoming a way into private networks.

Every hop (each redirect too) is checked after DNS resolution, and IPv4-mapped
IPv6 forms are unwrapped before the check.
"""

import socket
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from playground.evolink.contract import is_internal_host

MAX_REDIRECTS = 3
TIMEOUT = 10.0


class FetchError(Exception):
    pass


class TooLarge(FetchError):
    pass


def check_url(url, https_only=False):
    allowed = ("https",) if https_only else ("http", "https")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError("The URL is not well formed.") from None
    if parts.scheme not in allowed or not parts.hostname:
        raise FetchError(f"Only {' or '.join(allowed)} URLs can be used.")
    if settings.SANDBOX_ALLOW_PRIVATE_URLS:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"The host {parts.hostname} could not be resolved.") from None
    if any(is_internal_host(info[4][0]) for info in infos):
        raise FetchError(f"The host {parts.hostname} is a private address.")


def fetch(url, max_bytes):
    """GET url and return its body, following up to 3 checked redirects."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"The URL answered HTTP {response.status_code}.")
                    return read_limited(response, max_bytes)
            except httpx.HTTPError as exc:
                raise FetchError(f"The URL could not be fetched ({type(exc).__name__}).") from None
    raise FetchError("The URL redirected too many times.")


def read_limited(response, max_bytes):
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    return bytes(body)


def post_json(url, body):
    """Deliver a callback; True when the receiver answered 2xx."""
    check_url(url, https_only=not settings.SANDBOX_ALLOW_PRIVATE_URLS)
    try:
        response = httpx.post(url, json=body, timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError:
        return False
    return response.is_success
