import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from playground.teams.models import PersonalToken, Team


class Status(models.TextChoices):
    # In the team's own line (see queue.py): not sent, until the team has room for it.
    WAITING = "waiting", _("In line")
    QUEUED = "queued", _("Queued")
    SUBMITTING = "submitting", _("Submitting")
    PENDING = "pending", _("Waiting")
    PROCESSING = "processing", _("Generating")
    INGESTING = "ingesting", _("Saving images")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


RUNNING = (Status.WAITING, Status.QUEUED, Status.SUBMITTING, Status.PENDING, Status.PROCESSING, Status.INGESTING)
FINISHED = (Status.COMPLETED, Status.FAILED, Status.EXPIRED, Status.CANCELLED)
UPSTREAM_ACTIVE = (Status.PENDING, Status.PROCESSING)
# What counts against the team's cap of tasks in flight (see queue.py): admitted and not
# yet done upstream, a row let in and about to be sent included.
IN_FLIGHT = (Status.QUEUED, Status.SUBMITTING, Status.PENDING, Status.PROCESSING)


class Lane(models.TextChoices):
    """Which line a generation waits in: a person's own click (the page, the gateway) goes
    ahead of rows a batch made."""

    INTERACTIVE = "interactive", _("Interactive")
    BATCH = "batch", _("Batch")


class Mode(models.TextChoices):
    TEXT = "text", _("Text to image")
    IMAGE = "image", _("Image to image")
    EDIT = "edit", _("Mask edit")


SIZE_CHOICES = [
    ("1:1", _("1:1 square")),
    ("2:3", _("2:3 portrait")),
    ("3:2", _("3:2 landscape")),
    ("1024x1024", _("1024 × 1024")),
    ("1024x1536", _("1024 × 1536")),
    ("1536x1024", _("1536 × 1024")),
]


class GenerationQuerySet(models.QuerySet):
    def for_team(self, team):
        """The team's generations a person can see: deleted ones are gone from every page."""
        return self.filter(team=team, deleted_at__isnull=True)

    def running(self):
        return self.filter(status__in=RUNNING)

    def claim(self, pk, statuses, seconds, due=False):
        """Take the lease on one row: the claimed generation, or None when someone else has it.

        A conditional UPDATE, so two workers or trackers on any number of machines
        never work on the same generation at once. The row also becomes due when the
        lease runs out, so a holder that dies is replaced by the next tracker pass.
        Every later write of the holder names the lease's token (see `lifecycle.update`),
        so a holder that outlived its lease cannot overwrite its successor's work.
        """
        now = timezone.now()
        until = now + timedelta(seconds=seconds)
        token = uuid.uuid4().hex
        lease_free = models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now)
        claimed = self.filter(lease_free, pk=pk, status__in=statuses)
        if due:  # a tracker's claim: not when another tracker has just done the step
            claimed = claimed.filter(next_check_at__lte=now)
        if claimed.update(lease_until=until, lease_token=token, next_check_at=until) != 1:
            return None
        return self.select_related("team").get(pk=pk)


class StoredImage(models.Model):
    """An image file in the team's storage, with what the page shows about it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        abstract = True

    @property
    def extension(self):
        return self.file.name.rsplit(".", 1)[-1]


class Reference(StoredImage):
    """An image the team gave as a reference, or a mask, kept in the team's storage.

    Uploaded once and reused by any number of generations; `hosted_url` is where the
    vendor's file hosting serves it, until `hosted_until` (72 hours after upload).
    `hosted_file_id` names that file for deleting it, on the account `hosted_account`
    stands for (see generations/hosting.py); an id without a URL is a file still to delete.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", _("Reference image")
        MASK = "mask", _("Mask")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="references")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=5, choices=Kind, default=Kind.IMAGE)
    original_name = models.CharField(max_length=255, blank=True)
    hosted_url = models.URLField(max_length=2048, blank=True)
    hosted_until = models.DateTimeField(null=True, blank=True)
    hosted_file_id = models.CharField(max_length=200, blank=True)
    hosted_account = models.CharField(max_length=64, blank=True)
    # A PNG copy made for a masked edit (see references.as_png) names the image it was made
    # from, so the lineage (generations/lineage.py) still finds that image's generation.
    copy_of_sha256 = models.CharField(max_length=64, blank=True)
    # Deleted through the gateway's files API while a generation still shows it: its file link
    # is dead (see gateway/files.py), the History keeps it.
    link_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same bytes given twice by a team are one reference.
            models.UniqueConstraint(fields=["team", "kind", "sha256"], name="one_reference_per_content")
        ]

    def __str__(self):
        return f"{self.kind} {self.public_id}"

    @property
    def is_png(self):
        return self.content_type == "image/png"

    def is_hosted(self, margin=timedelta(0)):
        """Whether the hosted copy is still live `margin` from now."""
        return bool(self.hosted_url and self.hosted_until and self.hosted_until > timezone.now() + margin)


class ReplacedHostedFile(models.Model):
    """A hosted file no reference names any more (replaced by a new upload, or the loser of two
    uploads at once) whose delete has not yet been confirmed: kept so that it is never forgotten
    while it lives. The sweep deletes it; past `hosted_until` the service has dropped it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="replaced_hosted_files")
    file_id = models.CharField(max_length=200)
    hosted_account = models.CharField(max_length=64)
    hosted_until = models.DateTimeField()


class Tag(models.Model):
    """A word a team files its generations under, to find them again."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("tag"), max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="one_tag_per_name")]

    def __str__(self):
        return self.name


def new_token():
    return secrets.token_urlsafe(32)


class Generation(models.Model):
    """One request to the image service and everything that came of it.

    The row, not a worker's memory, is the truth: after any restart every unfinished
    generation resumes from here.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="generations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The personal token a script made it with (None for the pages).
    token = models.ForeignKey(
        PersonalToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )

    # The batch it is a row of (every attempt of the row); None for a single request.
    batch = models.ForeignKey(
        "batches.Batch", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )

    # The request, as sent upstream.
    prompt = models.TextField(_("prompt"))
    # The prompt case-folded, for a search that ignores case in every script (SQLite's
    # LIKE only folds ASCII). Kept in step by save().
    prompt_folded = models.TextField(blank=True, editable=False)
    size = models.CharField(_("size"), max_length=10, choices=SIZE_CHOICES, default="1:1")
    n = models.PositiveSmallIntegerField(_("number of images"), default=1)
    mode = models.CharField(_("mode"), max_length=5, choices=Mode, default=Mode.TEXT)
    references = models.ManyToManyField(Reference, through="GenerationReference", related_name="+")
    tags = models.ManyToManyField(Tag, blank=True, related_name="generations")
    # Each person's own stars, to find their picks again on the History page.
    favourited_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="favourite_generations"
    )
    mask = models.ForeignKey(Reference, null=True, blank=True, on_delete=models.RESTRICT, related_name="+")
    strict_mask = models.BooleanField(_("strict mask"), default=True)
    callback_url = models.URLField(_("callback URL"), max_length=2048, blank=True)
    # The URLs the references and mask were hosted at when the task was sent.
    image_urls = models.JSONField(default=list, blank=True)
    mask_url = models.URLField(max_length=2048, blank=True)
    # The Idempotency-Key of the current submit attempt, and a digest of the request body it
    # was sent with: a create sent again in the same attempt with the same body reuses it,
    # so it answers the task the first one made (see lifecycle.attempt_key).
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    idempotency_body = models.CharField(max_length=64, blank=True, editable=False)
    # Proves a callback delivery is about this generation; never shown in a page.
    callback_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)

    # What upstream said.
    task_id = models.CharField(max_length=100, blank=True, db_index=True)
    # The service's id of the create's reply (a `request_id` field or header): support asks for it.
    request_id = models.CharField(_("request ID"), max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.QUEUED)
    lane = models.CharField(max_length=11, choices=Lane, default=Lane.INTERACTIVE)
    # When the queue let it be sent (see queue.py): batches take turns by it.
    admitted_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    estimated_seconds = models.PositiveIntegerField(null=True, blank=True)
    credits_reserved = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # Our own reservation against the team's budgets, made before anything is sent, and
    # the charge it becomes when the task ends (see `credits`).
    credits_estimated = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    credits_charged = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # While the task runs: the account it was sent through, encrypted (upstream.Account.sealed),
    # so polls keep going to it even if the team's key is replaced or removed meanwhile.
    account_encrypted = models.TextField(blank=True, editable=False)
    result_urls = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    # Each status the generation entered, with when: [[status, ISO time], ...].
    timeline = models.JSONField(default=list, blank=True, editable=False)

    # Scheduling: who holds the row, and when it wants attention next.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    poll_failures = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    upstream_completed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleted by a person: what was asked and made is gone, what it cost (and how many
    # images it delivered) stays, so the month's budgets and usage still count it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    images_delivered = models.PositiveSmallIntegerField(default=0)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="generation_team_recent"),
            models.Index(fields=["status", "next_check_at"], name="generation_due"),
            models.Index(fields=["team", "status", "lane"], name="generation_team_line"),
            # The History panel's single generations, found without stepping over a batch's rows.
            models.Index(
                fields=["team", "-created_at", "-id"], condition=models.Q(batch__isnull=True), name="generation_team_singles"
            ),
        ]

    def __str__(self):
        return f"{self.public_id} ({self.status})"

    def save(self, *args, **kwargs):
        self.prompt_folded = self.prompt.casefold()
        if kwargs.get("update_fields") and "prompt" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "prompt_folded"}
        super().save(*args, **kwargs)

    @property
    def is_running(self):
        return self.status in RUNNING

    @property
    def seconds_left(self):
        """Seconds until the service's own estimate runs out, or None when unknown."""
        if not self.is_running or not self.estimated_seconds or not self.submitted_at:
            return None
        elapsed = (timezone.now() - self.submitted_at).total_seconds()
        return max(0, round(self.estimated_seconds - elapsed))

    @property
    def file_stem(self):
        """The start of its download names: the day and the prompt's first words, e.g. 2026-11-21-a-red-bicycle."""
        words = slugify(self.prompt, allow_unicode=True)[:60].rstrip("-") or "generation"
        return f"{timezone.localdate(self.created_at):%Y-%m-%d}-{words}"

    @property
    def slots(self):
        return range(self.n)

    def ordered_references(self):
        return [link.reference for link in self.reference_links.select_related("reference")]


class GenerationReference(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="reference_links")
    reference = models.ForeignKey(Reference, on_delete=models.RESTRICT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "position"], name="one_reference_per_position")
        ]


class GeneratedImageQuerySet(models.QuerySet):
    def for_team(self, team):
        """The team's images a person can see: none of a deleted generation's."""
        return self.filter(generation__team=team, generation__deleted_at__isnull=True)


class GeneratedImage(StoredImage):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    # With strict mask, `file` is the result composited into the reference and this is
    # the image exactly as the service returned it.
    raw_file = models.FileField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GeneratedImageQuerySet.as_manager()

    class Meta:
        ordering = ["index"]
        constraints = [
            # Each result is stored exactly once, whoever ingests it.
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_result")
        ]
        indexes = [
            # Lineage finds the result a reference was taken from by its bytes (see lineage.py).
            models.Index(fields=["sha256"], name="generated_image_content"),
        ]

    def __str__(self):
        return f"{self.generation.public_id} #{self.index}"

    @property
    def download_stem(self):
        """The file name a person gets when downloading it, without the extension:
        the day, the prompt's first words and the image's number, e.g. 2026-11-21-a-red-bicycle-2."""
        return f"{self.generation.file_stem}-{self.index + 1}"


class CreditTotal(models.Model):
    """What the team's generations made on one local day by one member, through one personal
    token (None: on the pages), count: kept in step with the rows by `totals`, so budgets and
    usage read a few of these instead of summing the month's generations.

    `user` and `token` hold the id they had: when an account or token is deleted its totals
    move to None (see totals.fold), as its generations' `created_by` and `token` do.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    token = models.ForeignKey(
        PersonalToken, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    generations = models.PositiveIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)
    # Charges of the generations that have one, reservations of the others (see credits.spent).
    charged = models.DecimalField(max_digits=16, decimal_places=4, default=0)
    reserved = models.DecimalField(max_digits=16, decimal_places=4, default=0)

    class Meta:
        constraints = [
            # One row per key; None is a value of the key here, not "unknown".
            models.UniqueConstraint(
                "team",
                Coalesce("user", 0, output_field=models.IntegerField()),
                Coalesce("token", 0, output_field=models.IntegerField()),
                "day",
                name="one_credit_total_per_key",
            )
        ]
        indexes = [models.Index(fields=["team", "day"], name="credit_total_team_day")]

    def __str__(self):
        return f"{self.team_id} {self.user_id} {self.token_id} {self.day}"
