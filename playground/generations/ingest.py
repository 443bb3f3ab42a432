"""Saving a completed task's images before the service's 24-hour links expire."""

import hashlib
import logging
from io import BytesIO

import httpx
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from playground import outbound
from playground.evolink import errors
from playground.teams.upstream import configured_origins

from . import images, leases, masks
from .accounts import generation_account
from .bucket import storage_errors
from .images import NotAnImage
from .lifecycle import backoff_seconds, finish, gave_up, later, release, update
from .models import GeneratedImage, Status
from .outages import until_written

log = logging.getLogger(__name__)

# A link answering these has expired (or never existed): asking again will not help.
EXPIRED_STATUSES = {401, 403, 404, 410}


class LinkExpired(Exception):
    pass


class DownloadFailed(Exception):
    """Worth another try later: a timeout, a dropped connection, a 5xx."""


class RefusedLink(Exception):
    """A result link to an internal address, or not over HTTPS: never fetched."""


class ResultTooLarge(Exception):
    pass


def result_links(account):
    """A client for the result links of tasks sent through `account` (see `playground.outbound`):
    HTTPS to public addresses, each redirect checked again. Plain HTTP and internal addresses
    only on the origins (scheme, host and port) the operator configured, the built-in sandbox's
    and EVOLINK_BASE_URL's and EVOLINK_FILES_BASE_URL's, and only when the task was sent there:
    an upstream the operator chose is reached whole, one only a team chose never."""
    return outbound.client(trusted=operator_origins(account), timeout=settings.EVOLINK_TIMEOUT)


def operator_origins(account):
    """Those of the account's API and file hosts that are among the operator's own settings."""
    configured = {outbound.origin(url) for url in configured_origins() if url}
    return [url for url in (account.base_url, account.files_base_url) if url and outbound.origin(url) in configured]


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
        with result_links(account) as http:
            for index, url in enumerate(generation.result_urls):
                if index not in stored:
                    store_result(generation, index, fetch(http, url), strict)
    except errors.EvoLinkError as error:  # the account it was sent through can't be read
        finish(generation, Status.FAILED, error)
    except RefusedLink:
        finish(generation, Status.FAILED, message=_("The service sent a result link this server will not open."))
    except LinkExpired:
        finish(generation, Status.EXPIRED, message=_("The result links expired before the images could be saved."))
    except NotAnImage:
        finish(generation, Status.FAILED, message=_("The service returned a file that is not a valid image."))
    except ResultTooLarge:
        finish(generation, Status.FAILED, message=_("The service returned a file larger than this server accepts."))
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


def fetch(http, url):
    """The bytes at a result link, through `result_links`, cut off past RESULT_MAX_BYTES.

    Result links are public signed URLs: the API key is never sent to them.
    """
    try:
        status, body = outbound.download(http, url, settings.RESULT_MAX_BYTES)
    except outbound.Refused as exc:
        raise RefusedLink(str(exc)) from None
    except outbound.TooLarge as exc:
        raise ResultTooLarge(str(exc)) from None
    except httpx.HTTPError as exc:
        raise DownloadFailed(type(exc).__name__) from None
    if status in EXPIRED_STATUSES:
        raise LinkExpired(status)
    if not 200 <= status < 300:
        raise DownloadFailed(f"HTTP {status}")
    return body


def strict_mask_inputs(generation):
    """(reference, mask) as decoded images when results are composited, else None."""
    if not (generation.mask_id and generation.strict_mask):
        return None
    reference = generation.ordered_references()[0]
    with default_storage.open(reference.file.name) as image_file, default_storage.open(
        generation.mask.file.name
    ) as mask_file:
        return images.decode(image_file), images.decode(mask_file)


def store_result(generation, index, data, strict=None):
    """Write one image and its thumbnail, then record the row that makes it stored.

    With strict mask, the stored image is the result composited into the reference
    and the service's own image is kept beside it as the raw file.
    """
    data, image, kind = images.clean_result(data)  # the service's metadata is not kept either
    extension, content_type = images.FORMATS[kind]
    base = f"generations/{generation.team_id}/{generation.public_id}/{index}"
    # Names derive from the generation and the storage overwrites: a rerun replaces its
    # own leftovers instead of leaving an orphan beside a renamed copy.
    raw_name = ""
    if strict:
        raw_name = default_storage.save(f"{base}-raw.{extension}", ContentFile(data))
        data = masks.composite_png(*strict, data)
        image = images.decode(BytesIO(data))
        extension, content_type = images.FORMATS[image.format]
    name = default_storage.save(f"{base}.{extension}", ContentFile(data))
    thumbnail = default_storage.save(f"{base}-thumb.webp", ContentFile(images.make_thumbnail(image)))
    try:
        until_written(lambda: GeneratedImage.objects.create(
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
        ))
    except IntegrityError:
        # Stored already by a run whose lease we outlived; its files are these same names.
        pass

