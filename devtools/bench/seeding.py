"""The rows and files the bench's sections measure on: generations, archives, images."""

import hashlib
import os
from datetime import timedelta
from io import BytesIO

import httpx
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from PIL import Image

from playground.generations import totals
from playground.generations.images import MAX_REFERENCE_BYTES
from playground.generations.models import GeneratedImage, Generation, Status
from playground.teams.models import Membership, Team

REFERENCE_SIDE = 1860  # an RGB noise PNG stored uncompressed: 9.9 MB, just under the 10 MB limit
ZIP_SIDE = 1024  # an RGB noise PNG of 1024 × 1024: about 3 MB, the size of a real result
SUBJECTS = ["lighthouse at dawn", "harbour at night", "red bicycle", "mountain cabin", "city market", "paper boat"]


def bench_team():
    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER)
    return team, user


def unsaved(**fields):
    """A generation for bulk_create, which skips save(): so its folded prompt is set here."""
    return Generation(prompt_folded=fields["prompt"].casefold(), **fields)


def seed_generations(team, user, count):
    """`count` generations for the team and as many for another, mostly completed with images."""
    other = Team.objects.create(name="Other", slug="other")
    now = timezone.now()
    for owner_team in (team, other):
        rows = [
            unsaved(
                team=owner_team, created_by=user, prompt=f"bench prompt {i} of a sunny harbour",
                size="1:1", n=1, status=Status.COMPLETED if i % 50 else Status.PROCESSING,
                progress=100 if i % 50 else 40, created_at=now - timedelta(seconds=count - i),
                credits_estimated=1.5, credits_charged=1.5 if i % 50 else None,
            )
            for i in range(count)
        ]
        Generation.objects.bulk_create(rows, batch_size=1000)
    images = [
        GeneratedImage(generation_id=pk, index=0, file=f"bench/{pk}.png", thumbnail=f"bench/{pk}-thumb.webp",
                       content_type="image/png", width=1024, height=1024, bytes=1, sha256="0" * 64)
        for pk in Generation.objects.filter(status=Status.COMPLETED).values_list("pk", flat=True)
    ]
    GeneratedImage.objects.bulk_create(images, batch_size=1000)
    for owner_team in (team, other):
        totals.rebuild(owner_team)  # rows loaded in bulk are counted from the rows, as the data migration does


def seed_archive(team, people, count):
    now = timezone.now()
    statuses = [Status.COMPLETED] * 8 + [Status.FAILED, Status.EXPIRED]
    sizes = ["1:1", "2:3", "3:2"]
    for start in range(0, count, 5000):
        Generation.objects.bulk_create(
            unsaved(
                team=team, created_by=people[i % len(people)], prompt=f"poster {i}: a {SUBJECTS[i % len(SUBJECTS)]}",
                size=sizes[i % 3], n=1, status=statuses[i % len(statuses)], progress=100,
                created_at=now - timedelta(minutes=count - i),
            )
            for i in range(start, min(count, start + 5000))
        )
    other = Team.objects.create(name="Archive rival", slug="archive-rival")
    Generation.objects.bulk_create(
        unsaved(team=other, prompt="a lighthouse at dawn", created_at=now) for _ in range(count // 10)
    )


def analyze():
    """PostgreSQL plans queries by statistics that autovacuum gathers some time after a bulk
    load, which a live database has long had: gather them now, or the figures depend on
    whether autovacuum came by yet (10x on the History fragment). SQLite keeps none unless
    asked, and is left so."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def in_flight_tasks(team, sandbox, count, seconds):
    """`count` generations with real sandbox tasks that stay in flight for `seconds`, not due
    until bench_tracker makes them so."""
    now = timezone.now()
    with httpx.Client(headers=sandbox.headers, timeout=30) as http:
        task_ids = [
            http.post(f"{sandbox.url}/v1/images/generations",
                      json={"model": "gpt-4o-image", "prompt": f"bench [sandbox:seconds={seconds}]"}).json()["id"]
            for _ in range(count)
        ]
    Generation.objects.bulk_create(
        [unsaved(team=team, prompt="bench", task_id=task_id, status=Status.PENDING, submitted_at=now,
                 estimated_seconds=seconds) for task_id in task_ids],
        batch_size=1000,
    )


def seed_zip_export(team, user, count):
    """`count` completed generations, each with its own copy of one noise PNG in storage."""
    out = BytesIO()
    Image.frombytes("RGB", (ZIP_SIDE, ZIP_SIDE), os.urandom(ZIP_SIDE * ZIP_SIDE * 3)).save(out, "PNG")
    data = out.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    now = timezone.now()
    generations = Generation.objects.bulk_create(
        unsaved(team=team, created_by=user, prompt=f"zip export {i}: a harbour at night", status=Status.COMPLETED,
                progress=100, created_at=now - timedelta(seconds=i), credits_estimated=1.5, credits_charged=1.5)
        for i in range(count)
    )
    GeneratedImage.objects.bulk_create(
        GeneratedImage(
            generation=generation, index=0, file=default_storage.save(f"bench-zip/{generation.public_id}.png",
                                                                      ContentFile(data)),
            thumbnail="bench-zip/thumb.webp", content_type="image/png", width=ZIP_SIDE, height=ZIP_SIDE,
            bytes=len(data), sha256=digest,
        )
        for generation in generations
    )
    return [str(generation.public_id) for generation in generations], len(data)


def make_references(folder, count):
    """`count` distinct PNGs of random noise, each just under 10 MB, made one at a time."""
    for i in range(count):
        path = folder / f"reference-{i + 1}.png"
        noise = os.urandom(REFERENCE_SIDE * REFERENCE_SIDE * 3)
        Image.frombytes("RGB", (REFERENCE_SIDE, REFERENCE_SIDE), noise).save(path, "PNG", compress_level=0)
        if path.stat().st_size > MAX_REFERENCE_BYTES:
            raise AssertionError(f"{path.name} is {path.stat().st_size} bytes, over the limit")
