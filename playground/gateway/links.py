"""Signed links to the team's stored copies, issued afresh on every reply.

A result link (`/v1/results/…`) is valid 24 hours, as the vendor's are; a file link
(`/v1/files/…`, what an upload answers as `file_url`) 72 hours, as hosted files live.
Each names one stored image and its team, so a link opens that image and nothing else,
and the gateway takes a file link back in `image_urls` or `mask_url` only from its team.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404

from playground.evolink.contract import HOSTED_FILE_SECONDS, RESULT_LINK_SECONDS

KINDS = {"result": RESULT_LINK_SECONDS, "file": HOSTED_FILE_SECONDS}


@dataclass(frozen=True)
class Signed:
    kind: str  # "result" or "file"
    public_id: str  # of the GeneratedImage or the Reference
    team_id: int


def _signer(kind):
    return signing.TimestampSigner(salt=f"playground.gateway.links.{kind}")


def api_base_url(request):
    """This server's address as scripts reach it: PUBLIC_BASE_URL when set, else the request's."""
    return (settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")).rstrip("/")


def sign(kind, stored, team_id):
    return _signer(kind).sign_object({"i": str(stored.public_id), "t": team_id}, compress=False)


def url(request_or_base, kind, stored, team_id):
    """The absolute link; `request_or_base` is the request being answered, or the base URL
    a callback is written against."""
    path = reverse(f"gateway:{kind}-link", args=[sign(kind, stored, team_id), stored.extension])
    if isinstance(request_or_base, str):
        return request_or_base.rstrip("/") + path
    return request_or_base.build_absolute_uri(path)


def read(kind, value):
    """The Signed link, or None when it is forged, of another kind or past its lifetime."""
    try:
        found = _signer(kind).unsign_object(value, max_age=KINDS[kind])
        return Signed(kind, str(found["i"]), int(found["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def on_origin(link, origin):
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}".lower() == origin.lower()


def own_link(link):
    """The Signed link a URL of this server is: None when it is none, or past its lifetime."""
    parts = urlsplit(link)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    kind = {"gateway:result-link": "result", "gateway:file-link": "file"}.get(match.view_name)
    return read(kind, match.kwargs["signed"]) if kind else None
