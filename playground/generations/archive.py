"""ZIP archives of generations: their images and a manifest of prompts and parameters.

The archive is written while it is sent: zipfile writes into a `Spool` that the response
drains after every chunk of every image, so memory stays at about one chunk whatever the
size of the selection. Images are stored, not deflated: PNG, JPEG and WebP are compressed
already.
"""

import json
import stat
import zipfile

from django.core.files.storage import default_storage
from django.utils import timezone

from .models import Generation

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"


def exported(team):
    """The team's generations, with all the manifest reads."""
    return (
        Generation.objects.for_team(team)
        .select_related("created_by", "mask", "token")
        .prefetch_related("images", "tags", "reference_links__reference")
    )


def zip_stream(generations, folders):
    """The ZIP's bytes, chunk by chunk. Everything is read from the database now, at the
    call; the stream only reads files. `folders` puts each generation's images in its own."""
    manifest, files = describe(generations, folders)
    return stream_zip([(MANIFEST, manifest)], files)


def describe(generations, folders):
    """The manifest, and (name in the ZIP, stored file name, bytes, time) for each image."""
    described, files = [], []
    for generation in generations:
        folder = f"{generation.file_stem}-{generation.public_id.hex[:8]}/" if folders else ""
        images = []
        for image in generation.images.all():
            name = f"{folder}{image.download_stem}.{image.extension}"
            files.append((name, image.file.name, image.bytes, generation.created_at))
            images.append({"file": name, "width": image.width, "height": image.height,
                           "bytes": image.bytes, "sha256": image.sha256})
        described.append(generation_manifest(generation, images))
    manifest = {"exported_at": timezone.now().isoformat(), "generations": described}
    return json.dumps(manifest, ensure_ascii=False, indent=2).encode(), files


def generation_manifest(generation, images):
    def amount(value):
        return None if value is None else str(value)

    return {
        "public_id": str(generation.public_id),
        "prompt": generation.prompt,
        "size": generation.size,
        "n": generation.n,
        "mode": generation.mode,
        "strict_mask": generation.strict_mask,
        "created_at": generation.created_at.isoformat(),
        "created_by": generation.created_by.get_username() if generation.created_by else None,
        "via_token": generation.token.name if generation.token else None,  # made through the API with it
        "status": generation.status,
        "error": generation.error_message or None,
        "task_id": generation.task_id,
        "credits": {
            "estimated": amount(generation.credits_estimated),
            "reserved": amount(generation.credits_reserved),
            "charged": amount(generation.credits_charged),
        },
        "tags": [tag.name for tag in generation.tags.all()],
        "references": [link.reference.original_name for link in generation.reference_links.all()],
        "mask": generation.mask.original_name if generation.mask else None,
        "images": images,
    }


class Spool:
    """A write-only file with no tell() or seek(): zipfile then writes each entry's sizes
    after its data (a data descriptor) instead of going back, so nothing has to stay."""

    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def stream_zip(documents, files):
    """The ZIP's bytes: the `documents` first ((name, bytes) each, the manifests made up front),
    then each file of `files` ((name in the ZIP, stored file name, bytes, time)) read from storage."""
    spool = Spool()
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as archive:
        now = timezone.now()
        for name, data in documents:
            archive.writestr(entry(name, now, len(data)), data)
        yield spool.take()
        for name, stored_name, size, when in files:
            with default_storage.open(stored_name, "rb") as source, archive.open(entry(name, when, size), "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield spool.take()
    yield spool.take()  # the last data descriptor and the central directory


def entry(name, when, size):
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(when).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size  # zipfile's hint for whether the entry needs ZIP64 sizes
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info
