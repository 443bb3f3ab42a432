"""File hosting: uploads kept under generated names and served back as images.

The type is decided by decoding with Pillow, never by the name or the declared
type; the user's file name is kept only as metadata.
"""

import io
import re
import secrets
import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from . import fetch, store
from .errors import ApiError

FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
LIFETIME = 72 * 3600
FILE_ID = re.compile(r"file_[0-9a-f]{24}")

_quota_lock = threading.Lock()


def folder():
    return store.folder("files")


def sniff(data):
    """(extension, mime type) of an accepted image, or an ApiError."""
    if not data:
        raise ApiError(400, "The file is empty.", param="file")
    if len(data) > MAX_BYTES:
        raise ApiError(413, "The file is larger than 10 MB.", param="file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ApiError(400, "The image has too many pixels.", param="file")
            kind = FORMATS.get(image.format)
            if kind:
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if not kind:
        raise ApiError(400, "Only JPEG, PNG, WEBP and GIF images can be uploaded.", param="file")
    return kind


def clean_name(name):
    name = re.split(r"[/\\]", name or "")[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", name)[:255] or "upload"


def save(data, original_name):
    extension, mime_type = sniff(data)
    with _quota_lock:
        if len(live_records()) >= settings.SANDBOX_MAX_FILES:
            raise ApiError(
                403,
                f"The file quota of {settings.SANDBOX_MAX_FILES} files is used up: delete a file first.",
            )
        file_id = "file_" + secrets.token_hex(12)
        now = time.time()
        record = {
            "file_id": file_id,
            "extension": extension,
            "mime_type": mime_type,
            "original_name": clean_name(original_name),
            "file_size": len(data),
            "uploaded": now,
            "expires": now + LIFETIME,
        }
        store.write_bytes(content_path(record), data)
        store.write_json(folder() / f"{file_id}.json", record)
    return record


def content_path(record):
    return folder() / f"{record['file_id']}.{record['extension']}"


def load(file_id):
    """The record of a live file, or None (unknown, malformed id or expired)."""
    if not FILE_ID.fullmatch(file_id):
        return None
    record = store.read_json(folder() / f"{file_id}.json")
    if record and record["expires"] <= time.time():
        remove(record)
        return None
    return record


def remove(record):
    (folder() / f"{record['file_id']}.json").unlink(missing_ok=True)
    content_path(record).unlink(missing_ok=True)


def delete(file_id):
    record = load(file_id)
    if record:
        remove(record)
    return record is not None


def live_records():
    """Every live file, newest first; expired ones are removed on the way.

    A scan is fine here: the quota keeps the folder at about 100 files.
    """
    records = [load(path.stem) for path in folder().glob("file_*.json")]
    return sorted(filter(None, records), key=lambda record: record["uploaded"], reverse=True)


def iso(timestamp):
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def public(record):
    file_name = f"{record['file_id']}.{record['extension']}"
    file_url = f"{settings.SANDBOX_PUBLIC_URL}/files/{file_name}"
    return {
        "file_id": record["file_id"],
        "file_name": file_name,
        "original_name": record["original_name"],
        "file_size": record["file_size"],
        "mime_type": record["mime_type"],
        "upload_path": f"files/{file_name}",
        "file_url": file_url,
        "download_url": file_url + "?download=1",
        "upload_time": iso(record["uploaded"]),
        "expires_at": iso(record["expires"]),
    }


def hosted_file(url):
    """The live record behind a URL this sandbox handed out, else None."""
    prefix = settings.SANDBOX_PUBLIC_URL + "/files/"
    if not url.startswith(prefix):
        return None
    file_id, _, extension = url[len(prefix) :].split("?")[0].partition(".")
    record = load(file_id)
    return record if record and record["extension"] == extension else None


def read_url(url, max_bytes):
    """The bytes behind url: a file hosted here is read from disk, others are fetched."""
    record = hosted_file(url)
    if record is None:
        return fetch.fetch(url, max_bytes)
    data = content_path(record).read_bytes()
    if len(data) > max_bytes:
        raise fetch.TooLarge(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    return data
