"""The History panel beside the playground: the team's latest items and their counts.

An item is a single generation, or a whole batch (its rows are not listed one by one),
placed by when it was made. Which items are shown, and how far each has got, is read by
two small indexed queries, the same for the polled fingerprint and for the panel itself.
"""

import hashlib
from dataclasses import astuple, dataclass

from django.conf import settings
from django.db.models import OuterRef, Subquery

from playground.batches import runs, summary
from playground.batches.models import Batch, BatchRow
from playground.batches.runs import Progress
from playground.generations import queue
from playground.generations.models import GeneratedImage, Generation, Status


@dataclass
class Item:
    """One line of the panel as the fingerprint sees it: what a person would notice change."""

    created_at: object
    pk: int
    generation: tuple | None = None  # (status, progress, error_code)
    progress: Progress | None = None  # a batch's

    @property
    def is_batch(self):
        return self.progress is not None

    def seen(self):
        return ("batch", self.pk, astuple(self.progress)) if self.is_batch else (self.pk, *self.generation)


@dataclass
class BatchItem:
    """A batch as the panel shows it."""

    batch: Batch
    progress: Progress

    @property
    def is_running(self):
        return not self.progress.finished

    @property
    def settled(self):
        return self.progress.total - self.progress.waiting

    @property
    def line(self):
        return summary.progress_line(self.progress)


def singles(team):
    """The team's latest generations not made by a batch (a partial index serves it)."""
    return Generation.objects.for_team(team).filter(batch__isnull=True)[: settings.HISTORY_PANEL_SIZE]


def shown_items(team):
    """The panel's items, newest first, from two queries: the latest single generations, then
    the progress of the latest batches that can still be among them, grouped by status."""
    size = settings.HISTORY_PANEL_SIZE
    items = [
        Item(created_at, pk, generation=(status, progress, error_code))
        for pk, created_at, status, progress, error_code in singles(team).values_list(
            "pk", "created_at", "status", "progress", "error_code"
        )
    ]
    batches = Batch.objects.filter(team=team)
    if len(items) == size:  # a batch older than every single shown cannot make the cut
        batches = batches.filter(created_at__gte=items[-1].created_at)
    found = {}
    for group in runs.counted(BatchRow.objects.filter(batch__in=batches[:size].values("pk")), "batch__created_at"):
        item = found.setdefault(group["batch"], Item(group["batch__created_at"], group["batch"], progress=Progress()))
        item.progress.count(group)
    items.extend(found.values())
    items.sort(key=lambda item: (item.created_at, item.is_batch, item.pk), reverse=True)
    return items[:size]


def history_version(team, items=None):
    """A fingerprint of what the History panel shows, from two small indexed queries.

    Only visible fields count: a poll that changed nothing a person sees costs a 204.
    """
    items = shown_items(team) if items is None else items
    shown = [item.seen() for item in items]
    if any(not item.is_batch and item.generation[0] == Status.WAITING for item in items):
        shown.append(sorted(queue.positions(team).items()))  # "N ahead" moves as others are let out
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def latest_image():
    """The public id of the newest image a batch's generations made (none of a deleted one)."""
    images = GeneratedImage.objects.filter(generation__batch=OuterRef("pk"), generation__deleted_at__isnull=True)
    return Subquery(images.order_by("-created_at", "-pk").values("public_id")[:1])


def panel_objects(items):
    """The generations and batches for the items, in their order; one gone meanwhile is left out."""
    generation_pks = [item.pk for item in items if not item.is_batch]
    batch_pks = [item.pk for item in items if item.is_batch]
    generations = Generation.objects.filter(pk__in=generation_pks, deleted_at__isnull=True)
    generations = generations.select_related("created_by", "token").prefetch_related("images").in_bulk()
    batches = {}
    if batch_pks:
        batches = Batch.objects.filter(pk__in=batch_pks).select_related("created_by")
        batches = batches.annotate(latest_image=latest_image()).in_bulk()
    shown = []
    for item in items:
        if item.is_batch and item.pk in batches:
            shown.append(BatchItem(batches[item.pk], item.progress))
        elif not item.is_batch and item.pk in generations:
            shown.append(generations[item.pk])
    return shown


def is_completed(item):
    """A finished batch counts as completed once it made anything; a single generation when it did."""
    if isinstance(item, BatchItem):
        return item.progress.finished and item.progress.done > 0
    return item.status == Status.COMPLETED


def history_context(team, items=None, version=None):
    """The panel's context; `items` and `version` as read already, when the caller has them."""
    items = shown_items(team) if items is None else items
    shown = panel_objects(items)
    generations = [item for item in shown if isinstance(item, Generation)]
    ahead = queue.positions(team) if any(row.status == Status.WAITING for row in generations) else {}
    for generation in generations:
        generation.ahead = ahead.get(generation.pk)
    running = sum(1 for item in shown if item.is_running)  # a batch runs while any row waits or runs
    completed = sum(1 for item in shown if is_completed(item))
    return {
        "items": shown,
        "running": running,
        "completed": completed,
        "failed": len(shown) - running - completed,
        "version": version or history_version(team, items),
        "panel_size": settings.HISTORY_PANEL_SIZE,
    }
