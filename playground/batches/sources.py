"""What a batch's rows come from, once read: value lists (values.py) or an upload (tables.py).

Both give a `Source`: the rows' values, how many rows there are, and the problems of the
source as a whole. Neither builds more rows than BATCH_MAX_ROWS.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Problem:
    """What is wrong with a row, and where: a variable or optional column, "prompt", or "" for the row."""

    column: str
    message: str

    def __str__(self):
        return self.message


@dataclass
class SourceRow:
    number: int  # as the person counts: a value list's combination, or the spreadsheet's row (header = 1)
    values: dict  # variable name → value as given (stripped)
    options: dict = field(default_factory=dict)  # "size", "n", "reference" when the row gives them
    problems: list = field(default_factory=list)  # Problems found while reading it


@dataclass
class Source:
    rows: list = field(default_factory=list)
    total: int = 0  # rows there are, also when too many to build
    problems: list = field(default_factory=list)  # sentences: why the source cannot make a batch
    notes: list = field(default_factory=list)  # sentences: what was left out, and why


def max_rows():
    return settings.BATCH_MAX_ROWS


def count(number):
    return number_format(number, force_grouping=True)


def too_many_rows(total):
    return _("This makes %(total)s prompts; a batch takes at most %(limit)s. Use fewer values or rows.") % {
        "total": count(total),
        "limit": count(max_rows()),
    }
