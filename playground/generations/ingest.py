"""Saving a completed task's images before the service's 24-hour links expire."""

import hashlib
import io
import logging
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from PIL import Image

from playground.evolink import errors
from playground.evolink.contract import is_internal_host

from . import leases, masks
from .bucket import storage_errors
from .lifecycle import backoff_seconds, finish, gave_up, later, release, update
from .models import GeneratedImage, Status
from .references import FORMATS, make_thumbnail
from .upstream import generation_account

log = logging.getLogger(__name__)

# A link answering these has expired (or never existed): asking again will not help.
EXPIRED_STATUSES = {401, 403, 404, 410}


class LinkExpired(Exception):
    pass


class DownloadFailed(Exception):
    """Worth another try later: a timeout, a dropped connection, a 5xx."""


class NotAnImage(Exception):
    pass


class RefusedLink(Exception):
    """A result link to an internal address, or not over HTTPS: never fetched."""


def check_result_link(url, account):
    """The address to fetch a result link from, refusing links this server must not open.

    HTTPS to hosts that resolve only to public addresses, fetched from the address checked
    here (so a name that changes its answer meanwhile cannot lead inside); plain HTTP only
    from the built-in sandbox, when the task was sent to it. Returns None for the sandbox.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise RefusedLink(url) from None
    if account.is_sandbox and f"{parts.scheme}://{parts.netloc}" == account.base_url.rstrip("/"):
        return None
    if parts.scheme != "https" or not parts.hostname or is_internal_host(parts.hostname):
        raise RefusedLink(url)
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)]
    except OSError as exc:
        raise DownloadFailed(f"cannot resolve {parts.hostname}") from exc
    if not addresses or any(is_internal_host(address) for address in addresses):
        raise RefusedLink(url)
    return addresses[0]


def pinned(url, address):
    """(url, headers, extensions) that reach `url`'s host at `address`, TLS still checked for its name."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return target, {"Host": parts.netloc}, {"sni_hostname": parts.hostname}


@leases.step((Status.INGESTING,))
def ingest(generation):
    """Store every result of a completed task exactly once. True when this call ran.

    1. Claim the row. Results already stored (by an earlier, interrupted run) are
       skipped, so a run killed half-way resumes where it stopped.
    2. An expired link ends the generation `expired`; a passing fault is retried
       with backoff up to MAX_ATTEMPTS; a file that is not an image fails it.
    """
    if gave_up(generation):
        return
    update(generation, attempts=generation.attempts + 1)
    stored = set(generation.images.values_list("index", flat=True))
    try:
        strict = strict_mask_inputs(generation)
        account = generation_account(generation)
        with httpx.Client(timeout=settings.EVOLINK_TIMEOUT, follow_redirects=False) as http:
            for index, url in enumerate(generation.result_urls):
                if index not in stored:
                    address = check_result_link(url, account)
                    store_result(generation, index, fetch(http, url, address), strict)
    except errors.EvoLinkError as error:  # the account it was sent through can't be read
        finish(generation, Status.FAILED, error)
    except RefusedLink:
        finish(generation, Status.FAILED, message=_("The service sent a result link this server will not open."))
    except LinkExpired:
        finish(generation, Status.EXPIRED, message=_("The result links expired before the images could be saved."))
    except NotAnImage:
        finish(generation, Status.FAILED, message=_("The service returned a file that is not a valid image."))
    except (DownloadFailed, *storage_errors()) as exc:
        _retry_later(generation, exc)
    else:
        finish(generation, Status.COMPLETED)


def _retry_later(generation, exc):
    if generation.attempts >= settings.MAX_ATTEMPTS:
        finish(generation, Status.FAILED, message=_("The images could not be downloaded from the service."))
        return
    log.warning("download for %s failed, will retry: %s", generation.public_id, exc)
    release(generation, next_check_at=later(backoff_seconds(generation.attempts)))


def fetch(http, url, address=None):
    """The bytes at a result link, read in chunks and cut off at RESULT_MAX_BYTES.

    Result links are public signed URLs: the API key is never sent to them. With an
    `address`, the link's host is reached there (see `check_result_link`).
    """
    limit = settings.RESULT_MAX_BYTES
    target, headers, extensions = pinned(url, address) if address else (url, {}, {})
    try:
        with http.stream("GET", target, headers=headers, extensions=extensions) as response:
            if response.status_code in EXPIRED_STATUSES:
                raise LinkExpired(response.status_code)
            if not response.is_success:
                raise DownloadFailed(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise NotAnImage(f"larger than {limit} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise DownloadFailed(type(exc).__name__) from None


def strict_mask_inputs(generation):
    """(reference, mask) as decoded images when results are composited, else None."""
    if not (generation.mask_id and generation.strict_mask):
        return None
    reference = generation.ordered_references()[0]
    with default_storage.open(reference.file.name) as image_file, default_storage.open(
        generation.mask.file.name
    ) as mask_file:
        return Image.open(image_file).copy(), Image.open(mask_file).copy()


def store_result(generation, index, data, strict=None):
    """Write one image and its thumbnail, then record the row that makes it stored.

    With strict mask, the stored image is the result composited into the reference
    and the service's own image is kept beside it as the raw file.
    """
    image = decode(data)
    base = f"generations/{generation.team_id}/{generation.public_id}/{index}"
    # Names derive from the generation and the storage overwrites: a rerun replaces its
    # own leftovers instead of leaving an orphan beside a renamed copy.
    raw_name = ""
    if strict:
        raw_name = default_storage.save(f"{base}-raw.{FORMATS[image.format][0]}", ContentFile(data))
        data = masks.composite_png(*strict, data)
        image = decode(data)
    extension, content_type = FORMATS[image.format]
    name = default_storage.save(f"{base}.{extension}", ContentFile(data))
    thumbnail = default_storage.save(f"{base}-thumb.webp", ContentFile(make_thumbnail(image)))
    try:
        GeneratedImage.objects.create(
            generation=generation,
            index=index,
            file=name,
            thumbnail=thumbnail,
            raw_file=raw_name,
            content_type=content_type,
            width=image.width,
            height=image.height,
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
    except IntegrityError:
        # Stored already by a run whose lease we outlived; its files are these same names.
        pass


def decode(data):
    """Open and fully decode the bytes; only PNG, JPEG and WEBP are kept."""
    try:
        probe = Image.open(io.BytesIO(data))
        probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many types for broken files
        raise NotAnImage(str(exc)) from None
    if image.format not in FORMATS:
        raise NotAnImage(image.format)
    return image
