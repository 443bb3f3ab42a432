"""File hosting: uploads kept under generated names and served back as images.

The type is decided by decoding with Pillow, never by the name or the declared
type; the name a client gives (fileName, or the part's file name) is kept only as
metadata and answered back, never used as a path on disk.

Like upstream, each account (API key) may keep a limited number of live files
(SANDBOX_MAX_FILES, or the max_files switch), each for 72 hours
(SANDBOX_FILE_LIFETIME, or the file_lifetime switch); an upload over the quota
is refused with code 40003.
"""

import io
import re
import secrets
import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from playground.evolink.contract import FILE_QUOTA_EXCEEDED, MAX_REFERENCE_BYTES

from . import faults, fetch, store
from .errors import ApiError

FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
MAX_BYTES = MAX_REFERENCE_BYTES
MAX_PIXELS = 50_000_000
DEFAULT_FOLDER = "files"
FILE_ID = re.compile(r"file_[0-9a-f]{24}")

_quota_lock = threading.Lock()


def folder():
    return store.folder("files")


def sniff(data):
    """(extension, mime type) of an accepted image, or an ApiError."""
    if not data:
        raise ApiError(400, "The file is empty.", param="file")
    if len(data) > MAX_BYTES:
        raise ApiError(413, f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", param="file")
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


def clean_folder(path):
    """A client's uploadPath as relative folder names: no dots, no empty parts, no control bytes."""
    parts = [re.sub(r"[\x00-\x1f\x7f]", "", part) for part in re.split(r"[/\\]", path or "")]
    parts = [part for part in parts if part and part not in (".", "..")]
    return "/".join(parts)[:255] or DEFAULT_FOLDER


def max_files():
    return faults.current().get("max_files", settings.SANDBOX_MAX_FILES)


def lifetime():
    return faults.current().get("file_lifetime", settings.SANDBOX_FILE_LIFETIME)


def quota_full(limit):
    status = faults.current().get("quota_status", 403)
    message = f"The file quota of {limit} files is used up: delete a file first."
    return ApiError(
        status,
        message,
        code="file_quota_exceeded",
        file_code=FILE_QUOTA_EXCEEDED,
        error_type="insufficient_quota",
    )


def save(data, original_name, account, file_name=None, upload_path=None):
    """Keep an upload for account; file_name and upload_path are what the client asked for."""
    extension, mime_type = sniff(data)
    with _quota_lock:
        limit = max_files()
        if len(live_records(account)) >= limit:
            raise quota_full(limit)
        file_id = "file_" + secrets.token_hex(12)
        now = time.time()
        record = {
            "file_id": file_id,
            "account": account,
            "extension": extension,
            "mime_type": mime_type,
            "original_name": clean_name(original_name),
            "file_name": clean_name(file_name) if file_name else f"{file_id}.{extension}",
            "folder": clean_folder(upload_path),
            "file_size": len(data),
            "uploaded": now,
            "expires": now + lifetime(),
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


def delete(file_id, account):
    """Delete one of account's files; False when it has no such live file."""
    record = load(file_id)
    if record is None or record.get("account") != account:
        return False
    remove(record)
    return True


def live_records(account):
    """Every live file of account, newest first; expired ones are removed on the way.

    A scan is fine here: the quota keeps the folder at about 100 files an account.
    """
    records = [load(path.stem) for path in folder().glob("file_*.json")]
    owned = [record for record in records if record and record.get("account") == account]
    return sorted(owned, key=lambda record: record["uploaded"], reverse=True)


def iso(timestamp):
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def public(record):
    # The link stays the generated name: a client's name never becomes a path here.
    file_url = f"{settings.SANDBOX_PUBLIC_URL}/files/{record['file_id']}.{record['extension']}"
    file_name = record.get("file_name") or f"{record['file_id']}.{record['extension']}"
    return {
        "file_id": record["file_id"],
        "file_name": file_name,
        "original_name": record["original_name"],
        "file_size": record["file_size"],
        "mime_type": record["mime_type"],
        "upload_path": f"{record.get('folder', DEFAULT_FOLDER)}/{file_name}",
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
