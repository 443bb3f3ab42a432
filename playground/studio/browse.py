"""Browsing the team's whole history: filters kept in the URL, and keyset pages.

Pages are cut by (created_at, id) rather than by offset, so the thousandth page costs
what the first does: one indexed range scan from the cursor.
"""

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from playground.generations.models import RUNNING, SIZE_CHOICES, Generation, Mode, Status, Tag

PAGE_SIZE = 48
MAX_SEARCH_WORDS = 8
CURSOR_SALT = "history-page"

STATUS_CHOICES = [
    ("", _("Any status")),
    ("running", _("Running")),
    (Status.COMPLETED, _("Completed")),
    (Status.FAILED, _("Failed")),
    (Status.EXPIRED, _("Expired")),
    (Status.CANCELLED, _("Cancelled")),
]

BATCH_CHOICES = [
    ("", _("From batches or not")),
    ("none", _("Not from batches")),
    ("only", _("From batches")),
]


class HistoryFilters(forms.Form):
    """What a person narrows the history to; every field is optional and lives in the URL."""

    q = forms.CharField(label=_("Search prompts"), required=False, max_length=200)
    person = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    mode = forms.ChoiceField(label=_("Mode"), required=False, choices=[("", _("Any mode")), *Mode.choices])
    size = forms.ChoiceField(label=_("Size"), required=False, choices=[("", _("Any size")), *SIZE_CHOICES])
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    start = forms.DateField(label=pgettext_lazy("date range", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=pgettext_lazy("date range", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    batch = forms.ChoiceField(label=_("Batches"), required=False, choices=BATCH_CHOICES)
    favourites = forms.BooleanField(label=_("My favourites only"), required=False)

    def __init__(self, data, *, team):
        super().__init__(data)
        people = get_user_model().objects.filter(memberships__team=team).order_by("username")
        self.fields["person"].choices = [("", _("Anyone")), *((user.pk, user.get_username()) for user in people)]
        tags = Tag.objects.filter(team=team).values_list("name", flat=True)
        self.fields["tag"].choices = [("", _("Any tag")), *((name, name) for name in tags)]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date is before the start date."))
        return cleaned

    @property
    def active_count(self):
        """How many filters besides the search narrow the view: the number the Filters control shows."""
        if not self.is_bound:
            return 0
        data = getattr(self, "cleaned_data", {})
        return sum(1 for name, value in data.items() if name != "q" and value not in (None, "", False))

    @property
    def is_filtered(self):
        return self.is_bound and any(value not in (None, "", False) for value in self.cleaned_data.values())


def filtered(team, user, filters):
    """The team's generations narrowed by valid filters (invalid ones are ignored, and shown as errors)."""
    generations = Generation.objects.for_team(team)
    filters.is_valid()  # the fields that are valid still apply; the others show their errors
    data = getattr(filters, "cleaned_data", {})
    for word in (data.get("q") or "").casefold().split()[:MAX_SEARCH_WORDS]:
        generations = generations.filter(prompt_folded__contains=word)
    if data.get("person"):
        generations = generations.filter(created_by_id=data["person"])
    if data.get("status") == "running":
        generations = generations.filter(status__in=RUNNING)
    elif data.get("status"):
        generations = generations.filter(status=data["status"])
    if data.get("mode"):
        generations = generations.filter(mode=data["mode"])
    if data.get("size"):
        generations = generations.filter(size=data["size"])
    if data.get("start") and (start := day_start(data["start"])):
        generations = generations.filter(created_at__gte=start)
    if data.get("end") and (after_end := day_start(data["end"], days_later=1)):
        generations = generations.filter(created_at__lt=after_end)
    if data.get("tag"):
        generations = generations.filter(tags__team=team, tags__name=data["tag"])
    if data.get("batch"):
        generations = generations.filter(batch__isnull=data["batch"] == "none")
    if data.get("favourites"):
        generations = generations.filter(favourited_by=user)
    return generations


def day_start(day, days_later=0):
    """The first moment of `day` (plus `days_later`), or None past either end of the calendar,
    where a date bounds nothing (9999-12-31 as the end date, say)."""
    try:
        moment = timezone.make_aware(datetime.combine(day + timedelta(days=days_later), time.min))
        moment.astimezone(UTC)  # the database stores UTC: near the calendar's ends this overflows
    except OverflowError:
        return None
    return moment


def page(generations, cursor):
    """One page from `cursor` on (newest first), and the cursor of the next page or None."""
    position = read_cursor(cursor)
    if position:
        created_at, pk = position
        generations = generations.filter(created_at__lte=created_at).filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
        )
    ordered = generations.order_by("-created_at", "-id").select_related("created_by", "token", "batch").prefetch_related("images")
    rows = list(ordered[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (make_cursor(rows[-1]) if more else None)


def make_cursor(generation):
    # Signed, so a hand-made cursor is simply ignored rather than parsed.
    return signing.dumps([generation.created_at.isoformat(), generation.pk], salt=CURSOR_SALT, compress=True)


def read_cursor(cursor):
    if not cursor:
        return None
    try:
        created_at, pk = signing.loads(cursor, salt=CURSOR_SALT)
        return datetime.fromisoformat(created_at), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        return None

