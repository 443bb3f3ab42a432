"""Finding a team's batches by the ids pages are given, and what their pages read.

As for generations (generations/queries.py), every lookup is scoped to the team: another
team's batch is a 404, as if it did not exist, and so is a value that is not an id at all.
"""

import hashlib

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from playground.generations import queue
from playground.generations.models import GeneratedImage, Status
from playground.generations.queries import public_ids

from .models import Batch

COVER_IMAGES = 4


def team_batches(team):
    """The team's batches, newest first, with who started each."""
    return Batch.objects.filter(team=team).select_related("created_by")


def team_batch(team, public_id):
    (public_id,) = public_ids([public_id])
    return get_object_or_404(team_batches(team), public_id=public_id)


def shown_rows(batch):
    """The batch's rows with everything a row of its page shows: its latest attempt, who made
    it and its images (the images of a deleted generation are not shown)."""
    return batch.rows.select_related("generation", "generation__created_by").prefetch_related("generation__images")


def covers(batches):
    """The first few images of each batch, by batch pk, from one query."""
    found = {batch.pk: [] for batch in batches}
    images = (
        GeneratedImage.objects.filter(generation__batch__in=list(found), generation__deleted_at__isnull=True)
        .annotate(place=Window(RowNumber(), partition_by=F("generation__batch"), order_by=[F("generation_id"), F("index")]))
        .filter(place__lte=COVER_IMAGES)
        .annotate(batch_id=F("generation__batch"))
        .order_by("generation_id", "index")
    )
    for image in images:
        found[image.batch_id].append(image)
    return found


def status_version(progress, in_line):
    """A fingerprint of the batch's progress and what its buttons offer."""
    return fingerprint([progress, in_line])


def rows_version(batch, rows):
    """A fingerprint of what a page of the batch's rows shows (`rows`: that page's rows),
    from one small query: a poll that changed nothing a person sees costs a 204."""
    shown = list(
        batch.rows.filter(pk__in=[row.pk for row in rows])
        .order_by("pk")
        .values_list("generation_id", "generation__status", "generation__progress", "generation__deleted_at")
    )
    if any(status == Status.WAITING for _pk, status, *_rest in shown):
        shown.append(sorted(queue.positions(batch.team).items()))  # "N ahead" moves as others are let out
    return fingerprint(shown)


def fingerprint(shown):
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def in_line(batch):
    """How many of the batch's rows still wait in the team's line: what a cancel would end."""
    return batch.rows.filter(generation__status=Status.WAITING).count()
