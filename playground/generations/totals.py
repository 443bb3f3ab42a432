"""Running totals of what the team's generations count, per member, personal token and day.

The budgets (credits.py) and the usage page (usage.py) read these instead of summing the
month's generations, so a budget check costs the same on the first of the month as with
100,000 generations in it.

A generation counts once in the total of its key: its team, who made it, the personal
token it came through (None on the pages), and the local day it was made. It counts one
generation, the images it delivered, and its credits as `credits.spent` counts them: its
charge once it has one, its reservation until then. Every write that changes those (its
creation, the charge and images recorded when it ends) adds the difference to that total
in the same transaction, by an UPDATE that adds to the stored figures, so two writers at
once never lose each other's change on SQLite or PostgreSQL. A deleted generation keeps
counting (only what it asked for and made goes). When an account or a personal token is
deleted, its totals move to None, as its generations' `created_by` and `token` do.

`recount` compares the totals with the rows; `rebuild` writes them again from the rows
(after a bulk load, or after an operator changed TIME_ZONE, which moves the local days).
"""

from dataclasses import astuple, dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from playground.teams.models import PersonalToken

from .models import CreditTotal, Generation

ZERO = Decimal(0)
PLACES = Decimal("0.0001")
# The fields of a generation its totals depend on: its key, and what it counts.
KEY_FIELDS = ("team_id", "created_by_id", "token_id", "created_at")
COUNTED_FIELDS = ("credits_charged", "credits_estimated", "images_delivered")


@dataclass(frozen=True)
class Key:
    team_id: int
    user_id: int | None
    token_id: int | None
    day: object


@dataclass(frozen=True)
class Counted:
    generations: int = 0
    images: int = 0
    charged: Decimal = ZERO
    reserved: Decimal = ZERO

    def __add__(self, other):
        return Counted(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other):
        return Counted(*(mine - theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))

    def __bool__(self):
        return any(astuple(self))

    def rounded(self):
        """As the database gives decimals back: to the ten-thousandth (SQLite adds in floating point)."""
        return Counted(self.generations, self.images, quantized(self.charged), quantized(self.reserved))


def quantized(amount):
    return Decimal(amount or 0).quantize(PLACES)


def key_of(row):
    """The total a generation counts in; `row` maps KEY_FIELDS to its values."""
    day = timezone.localdate(row["created_at"])
    return Key(row["team_id"], row["created_by_id"], row["token_id"], day)


def counted_of(row):
    """What a generation counts; `row` maps COUNTED_FIELDS to its values."""
    charged = row["credits_charged"]
    if charged is None:
        return Counted(1, row["images_delivered"] or 0, ZERO, quantized(row["credits_estimated"]))
    return Counted(1, row["images_delivered"] or 0, quantized(charged), ZERO)


def fields_of(generation):
    return {name: getattr(generation, name) for name in (*KEY_FIELDS, *COUNTED_FIELDS)}


def add(key, change):
    """Add `change` to the total of `key`, making the total when it is the key's first."""
    if not change:
        return
    found = CreditTotal.objects.filter(
        team_id=key.team_id, user_id=key.user_id, token_id=key.token_id, day=key.day
    )
    increments = {name: F(name) + value for name, value in vars(change).items() if value}
    if found.update(**increments):
        return
    # get_or_create waits for, then finds, a total another transaction made meanwhile.
    CreditTotal.objects.get_or_create(team_id=key.team_id, user_id=key.user_id, token_id=key.token_id, day=key.day)
    found.update(**increments)


def created(generation):
    """Count a new generation: call in the transaction that creates it."""
    row = fields_of(generation)
    add(key_of(row), counted_of(row))


def counts_in(fields):
    """Whether writing these fields can change what a generation counts."""
    return not fields.keys().isdisjoint(COUNTED_FIELDS)


@transaction.atomic
def write(generations, fields):
    """`generations.update(**fields)` with their totals changed to match, in one transaction:
    the number of rows written. The rows are locked first, so what they counted before is
    what the update changes."""
    before = list(generations.select_for_update().values(*KEY_FIELDS, *COUNTED_FIELDS))
    written = generations.update(**fields)
    for row in before:
        after = {**row, **{name: value for name, value in fields.items() if name in COUNTED_FIELDS}}
        add(key_of(row), counted_of(after) - counted_of(row))
    return written


# -- deleted accounts and tokens -------------------------------------------------------


def fold(**gone):
    """Move the totals of a deleted account (`user_id=`) or token (`token_id=`) to None."""
    ((name, pk),) = gone.items()
    for total in CreditTotal.objects.filter(**{name: pk}):
        key = Key(total.team_id, total.user_id, total.token_id, total.day)
        add(Key(**{**vars(key), name: None}), Counted(total.generations, total.images, total.charged, total.reserved))
        total.delete()


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="credit-totals-user")
def account_deleted(sender, instance, **kwargs):
    fold(user_id=instance.pk)


@receiver(post_delete, sender=PersonalToken, dispatch_uid="credit-totals-token")
def token_deleted(sender, instance, **kwargs):
    fold(token_id=instance.pk)


# -- recount ---------------------------------------------------------------------------


def counted_from_rows(generations):
    """{Key: Counted} summed from these generations by the database, in local days."""
    local_day = TruncDate("created_at", tzinfo=timezone.get_current_timezone())
    grouped = (
        generations.order_by()
        .annotate(day=local_day)
        .values("team_id", "created_by_id", "token_id", "day")
        .annotate(
            generations=Count("id"),
            images=Sum("images_delivered"),
            charged=Sum("credits_charged", filter=Q(credits_charged__isnull=False)),
            reserved=Sum("credits_estimated", filter=Q(credits_charged__isnull=True)),
        )
    )
    return {
        Key(row["team_id"], row["created_by_id"], row["token_id"], row["day"]): Counted(
            row["generations"], row["images"] or 0, quantized(row["charged"]), quantized(row["reserved"])
        )
        for row in grouped
    }


def stored(team):
    """{Key: Counted} as the team's totals say, leaving out totals that count nothing."""
    found = {}
    for total in CreditTotal.objects.filter(team=team):
        counted = Counted(total.generations, total.images, total.charged, total.reserved).rounded()
        if counted:
            found[Key(total.team_id, total.user_id, total.token_id, total.day)] = counted
    return found


def recount(team):
    """Where the team's totals differ from its rows: {Key: (stored, from the rows)}; empty when they agree."""
    from_rows = counted_from_rows(Generation.objects.filter(team=team))
    kept = stored(team)
    return {
        key: (kept.get(key, Counted()), from_rows.get(key, Counted()))
        for key in kept.keys() | from_rows.keys()
        if kept.get(key, Counted()) != from_rows.get(key, Counted())
    }


@transaction.atomic
def rebuild(team):
    """Write the team's totals again from its rows."""
    CreditTotal.objects.filter(team=team).delete()
    CreditTotal.objects.bulk_create(
        [total_of(key, counted) for key, counted in counted_from_rows(Generation.objects.filter(team=team)).items()],
        batch_size=1000,
    )


def total_of(key, counted, model=CreditTotal):
    return model(
        team_id=key.team_id, user_id=key.user_id, token_id=key.token_id, day=key.day, **vars(counted)
    )
