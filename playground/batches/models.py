"""A batch once started: its rows, each sent as a generation in the team's batch lane."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from playground.teams.models import Team


class Batch(models.Model):
    """Many prompts from one template, started together by one member."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(_("name"), max_length=120)
    template = models.TextField(_("template"))
    # The batch's own size and n, for the rows that do not give theirs.
    size = models.CharField(_("size"), max_length=10)
    n = models.PositiveSmallIntegerField(_("number of images"))
    # The uploaded file's name; empty when the rows came from value lists.
    source_name = models.CharField(max_length=255, blank=True)
    # The nonce of the preview token it was started with (see preview_tokens.py): the same
    # preview cannot start a second batch. Empty when started without a page (manage.py batch).
    preview_nonce = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at", "-id"], name="batch_team_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "preview_nonce"], condition=~Q(preview_nonce=""), name="one_batch_per_preview"
            )
        ]

    def __str__(self):
        return self.name


class BatchRow(models.Model):
    """One row of a batch: its values, its prompt, and the generation last made from it."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rows")
    # The row's number in its source: the spreadsheet's row (the names are row 1), or the combination's.
    number = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    prompt = models.TextField(blank=True)
    # The latest attempt; a retry makes a new generation and points here to it.
    generation = models.ForeignKey(
        "generations.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the row was left out when the batch started (its problems); empty for a row that was sent.
    skipped = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="one_batch_row_per_number")]

    def __str__(self):
        return f"{self.batch} #{self.number}"
