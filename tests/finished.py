"""Finished generations made straight from rows, for tests that only read them: a completed
row and its images stored as small real files of the size they claim, as ingest leaves them,
without a sandbox task to wait for."""

import hashlib
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from playground.generations.models import GeneratedImage, Reference, Status

from .conftest import make_generation
from .images import image_bytes

SIZES = {"1:1": (1024, 1024), "2:3": (1024, 1536), "3:2": (1536, 1024)}


def store(name, data):
    return default_storage.save(name, ContentFile(data))


def stored_image(generation, index, size=(96, 64), raw=False):
    """A result image with its file and thumbnail in storage."""
    data = image_bytes(size)
    folder = f"generations/{generation.team_id}/{generation.public_id}"
    return GeneratedImage.objects.create(
        generation=generation,
        index=index,
        file=store(f"{folder}/{index}.png", data),
        thumbnail=store(f"{folder}/{index}.webp", image_bytes((32, 32), fmt="WEBP")),
        raw_file=store(f"{folder}/{index}-raw.png", data) if raw else "",
        content_type="image/png",
        width=size[0],
        height=size[1],
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def stored_reference(team, user, name, kind=Reference.Kind.IMAGE, data=None):
    """An uploaded reference (or mask) with its file and thumbnail in storage."""
    data = data or image_bytes((64, 64), colour=(len(name) * 9 % 256, 40, 200))
    return Reference.objects.create(
        team=team,
        uploaded_by=user,
        kind=kind,
        original_name=name,
        file=store(f"references/{team.pk}/{name}", data),
        thumbnail=store(f"references/{team.pk}/{name}.webp", image_bytes((32, 32), fmt="WEBP")),
        content_type="image/png",
        width=64,
        height=64,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def finished_generation(team, user=None, **fields):
    """A completed generation with `n` images of its size (1024 × 1024 unless it says otherwise)."""
    submitted = timezone.now() - timedelta(seconds=10)
    row = {"status": Status.COMPLETED, "task_id": f"task-{submitted.timestamp()}", "progress": 100,
           "submitted_at": submitted, "finished_at": submitted + timedelta(seconds=5), **fields}
    generation = make_generation(team, user, **row)
    generation.timeline = [[Status.QUEUED, submitted.isoformat()], [Status.COMPLETED, row["finished_at"].isoformat()]]
    generation.save()
    for index in range(generation.n):
        stored_image(generation, index, SIZES.get(generation.size, (1024, 1024)))
    return generation
