"""Files in the data dir: one JSON document per record, written atomically."""

import functools
import json
import os
import tempfile
from pathlib import Path

from django.conf import settings


@functools.cache
def folder(name=""):
    """A folder inside the data dir, created on first use."""
    path = Path(settings.SANDBOX_DATA_DIR, name)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_bytes(path, data):
    # A reader in another thread, or after a crash, sees the old file or the new one, never half.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def write_json(path, document):
    write_bytes(path, json.dumps(document, separators=(",", ":")).encode())


def read_json(path):
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
