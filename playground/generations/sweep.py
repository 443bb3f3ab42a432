"""Removing stored files that no row names.

Files are written before the row that names them is committed (a reference inside the
request that creates its generation, a result just before its image row), so a process
killed in between, or a transaction rolled back, leaves a file that nothing names and
nothing would ever delete. The tracker sweeps such files away once they are older than
SWEEP_GRACE_SECONDS: a younger one may belong to a request or a step still at work.
"""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils import timezone

from .bucket import in_bucket
from .models import GeneratedImage, Reference

log = logging.getLogger(__name__)

ROOTS = ("references", "generations")  # each holds one folder per team


def sweep(grace_seconds):
    """Delete the files under the teams' folders that no row names and that are older than
    `grace_seconds`; returns how many went."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    removed = 0
    for team_id in team_folders():
        named = named_files(team_id)
        for root in ROOTS:
            for name, modified in files_under(f"{root}/{team_id}"):
                if modified < cutoff and name not in named:
                    default_storage.delete(name)
                    removed += 1
                    log.info("removed %s: no generation or reference names it", name)
    return removed


def team_folders():
    found = set()
    for root in ROOTS:
        try:
            found.update(default_storage.listdir(root)[0])
        except FileNotFoundError:  # nothing stored there yet
            pass
    return sorted(found)


def named_files(team_id):
    named = set()
    for row in Reference.objects.filter(team_id=team_id).values_list("file", "thumbnail"):
        named.update(row)
    images = GeneratedImage.objects.filter(generation__team_id=team_id)
    for row in images.values_list("file", "thumbnail", "raw_file"):
        named.update(row)
    return named


def files_under(folder):
    """(name, modified) of each file under `folder`: one listing in a bucket, a walk on disk."""
    if in_bucket():
        location = default_storage.location.strip("/")
        prefix = f"{location}/" if location else ""
        for item in default_storage.bucket.objects.filter(Prefix=f"{prefix}{folder}/"):
            yield item.key.removeprefix(prefix), item.last_modified
        return
    root = Path(default_storage.location)
    for path in (root / folder).rglob("*"):
        if path.is_file():
            yield path.relative_to(root).as_posix(), datetime.fromtimestamp(path.stat().st_mtime, UTC)
