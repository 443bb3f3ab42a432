"""Whether the HTTP client can use an address at all.

Some spellings pass urllib but not httpx, which parses before sending (a host spelled
0177.0.0.1, a broken IDNA label): such an address must be refused where it is typed, and
a stored one must fail a call plainly instead of raising from inside the client.
"""

import httpx


def client_can_use(url):
    """True when httpx can build a request to `url` (as the client does, with a path added)."""
    try:
        httpx.Request("GET", url.rstrip("/") + "/v1/credits")
    except (httpx.InvalidURL, ValueError):  # IDNA errors are UnicodeErrors, ValueErrors
        return False
    return True
