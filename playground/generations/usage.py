"""A team's usage in one month: generations, images and credits per day, per member and per
personal token.

Everything is summed by the database, per (day, member), in one query whatever the
number of generations; the rest of the page is built from those cells in Python.

- Images are the images delivered: those each generation stored when it ended, still
  counted after the generation is deleted.
- Credits follow `credits.spent`, so the page agrees with the budgets:
  a generation that ended counts its charge, one still running its reservation.
- Days are days in the deployment's time zone (the current one), as are months.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from playground.amounts import plain

from .models import Generation

ZERO = Decimal(0)
MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")
# Wide enough for any real history, and far from datetime's limits so that the month
# before and after always exist.
FIRST_YEAR, LAST_YEAR = 1970, 9998

FORMER_MEMBER = _("Deleted account")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def current(cls):
        today = timezone.localdate()
        return cls(today.year, today.month)

    @classmethod
    def parse(cls, text):
        """The month written as YYYY-MM, or None when the text is not one."""
        found = MONTH_PATTERN.fullmatch(text.strip())
        if not found:
            return None
        year, month = int(found[1]), int(found[2])
        if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
            return None
        return cls(year, month)

    def __str__(self):
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self):
        return date(self.year, self.month, 1)

    @property
    def days(self):
        """Every day of the month, in order."""
        day, days = self.first_day, []
        while day.month == self.month:
            days.append(day)
            day += timedelta(days=1)
        return days

    @property
    def previous(self):
        month = Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)
        return month if month.year >= FIRST_YEAR else None

    @property
    def next(self):
        month = Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)
        return month if month.year <= LAST_YEAR else None

    @property
    def starts_at(self):
        """Midnight on the first day, in the current time zone."""
        return timezone.make_aware(datetime(self.year, self.month, 1))

    @property
    def ends_at(self):
        return self.next.starts_at if self.next else timezone.make_aware(datetime(self.year + 1, 1, 1))

    @property
    def label(self):
        """The month as people name it ("November 2026"), in the reader's language."""
        return formats.date_format(self.first_day, "YEAR_MONTH_FORMAT")


@dataclass
class Figures:
    generations: int = 0
    images: int = 0
    charged: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def credits(self):
        """Charged and reserved together: what counts against a budget."""
        return self.charged + self.reserved

    def __add__(self, other):
        return Figures(
            self.generations + other.generations,
            self.images + other.images,
            self.charged + other.charged,
            self.reserved + other.reserved,
        )


@dataclass
class Usage:
    """The month's figures per (day, member id); a member id is None for a deleted account."""

    month: Month
    cells: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)

    def cell(self, day, user_id):
        return self.cells.setdefault((day, user_id), Figures())

    @property
    def total(self):
        return sum(self.cells.values(), Figures())

    def by_day(self):
        """(day, figures) for every day of the month, quiet days included."""
        days = {day: Figures() for day in self.month.days}
        for (day, _user_id), figures in self.cells.items():
            days[day] += figures
        return list(days.items())

    def by_member(self):
        members = {}
        for (_day, user_id), figures in self.cells.items():
            members[user_id] = members.get(user_id, Figures()) + figures
        return members

    def name(self, user_id):
        return self.names.get(user_id) or str(FORMER_MEMBER)


def month_generations(team, month):
    return Generation.objects.filter(team=team, created_at__gte=month.starts_at, created_at__lt=month.ends_at)


def per_day(team, month, *keys):
    """The month's generations grouped by local day and `keys`, each group annotated with SUMS."""
    local_day = TruncDate("created_at", tzinfo=timezone.get_current_timezone())
    return month_generations(team, month).order_by().annotate(day=local_day).values("day", *keys).annotate(**SUMS)


def month_usage(team, month):
    """The team's usage in `month`: one grouped query, however many generations there are.

    Images are those each generation delivered, counted on the day it was made; a deleted
    generation still counts what it delivered and cost.
    """
    usage = Usage(month)
    for row in per_day(team, month, "created_by", "created_by__username"):
        usage.cells[(row["day"], row["created_by"])] = figures_of(row)
        usage.names[row["created_by"]] = row["created_by__username"]

    return usage


# What each group of generations sums to, for `figures_of`.
SUMS = {
    "generations": Count("id"),
    "images": Sum("images_delivered"),
    "charged": Sum("credits_charged", filter=Q(credits_charged__isnull=False)),
    "reserved": Sum("credits_estimated", filter=Q(credits_charged__isnull=True)),
}


def figures_of(row):
    """The Figures of one grouped row annotated with SUMS (a sum over no rows is None)."""
    return Figures(row["generations"], row["images"] or 0, row["charged"] or ZERO, row["reserved"] or ZERO)


@dataclass
class BudgetUse:
    """Credits spent this month against a monthly budget."""

    spent: Decimal
    budget: Decimal

    @property
    def percent(self):
        return int(self.spent * 100 / self.budget) if self.budget > 0 else None

    @property
    def over(self):
        return self.spent > self.budget

    @property
    def meter(self):
        """<meter> attributes, written plainly in every language; past 75% and 90% of the
        budget the browser colours it as a warning, then as bad."""
        return {
            "max": plain(self.budget),
            "value": plain(self.spent),
            "low": plain(self.budget * Decimal("0.75")),
            "high": plain(self.budget * Decimal("0.9")),
        }


def budget_use(figures, budget):
    return None if budget is None else BudgetUse(figures.credits, budget)


@dataclass
class MemberLine:
    name: str
    figures: Figures
    membership: object = None  # None for someone no longer in the team

    @property
    def budget(self):
        return budget_use(self.figures, self.membership.monthly_budget if self.membership else None)


def member_lines(usage, memberships):
    """One line per current member (active or not), then former members who used credits."""
    figures = usage.by_member()
    lines = [MemberLine(m.user.get_username(), figures.pop(m.user_id, Figures()), m) for m in memberships]
    former = [MemberLine(usage.name(user_id), found) for user_id, found in figures.items()]
    return lines + sorted(former, key=lambda line: line.name.casefold())


@dataclass
class TokenLine:
    """One personal token's generations in a month: what scripts made through the API with it."""

    name: str
    prefix: str
    holder: str
    figures: Figures
    monthly_cap: Decimal | None = None
    revoked: bool = False

    @property
    def budget(self):
        return budget_use(self.figures, self.monthly_cap)


def token_lines(team, month):
    """One line per personal token used in `month`, most credits first, and the line of the
    generations made on the pages (None when nothing was made there): one grouped query."""
    per_token = (
        month_generations(team, month)
        .order_by()
        .values(
            "token",
            "token__name",
            "token__prefix",
            "token__user__username",
            "token__monthly_cap",
            "token__revoked_at",
        )
        .annotate(**SUMS)
    )
    lines, on_pages = [], None
    for row in per_token:
        if row["token"] is None:
            on_pages = figures_of(row)
            continue
        holder = row["token__user__username"] or str(FORMER_MEMBER)
        lines.append(
            TokenLine(
                row["token__name"],
                row["token__prefix"],
                holder,
                figures_of(row),
                row["token__monthly_cap"],
                row["token__revoked_at"] is not None,
            )
        )
    lines.sort(key=lambda line: (-line.figures.credits, line.name.casefold()))
    return lines, on_pages


@dataclass
class ExportRow:
    """One CSV row: a day, a member, and the token they used (None for work on the pages)."""

    day: object
    member: str
    token: str | None
    token_prefix: str | None
    figures: Figures


def export_rows(team, month):
    """The month per day, member and token, in order, pages before tokens: one grouped query.

    The same sums as the usage page, split by token so a spreadsheet can total each script.
    """
    per_cell = per_day(team, month, "created_by__username", "token", "token__name", "token__prefix")
    rows = [
        ExportRow(
            row["day"],
            row["created_by__username"] or str(FORMER_MEMBER),
            row["token__name"],
            row["token__prefix"],
            figures_of(row),
        )
        for row in per_cell
    ]
    return sorted(rows, key=export_order)


def export_order(row):
    token = (row.token or "").casefold(), row.token_prefix or ""
    return row.day, row.member.casefold(), row.member, row.token is not None, token


def csv_cell(value):
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
