"""Rows from value lists: one value per line for each variable, every combination of them."""

import math
from itertools import product

from django.utils.translation import gettext as _

from .sources import Source, SourceRow, max_rows, too_many_rows


def lines(text):
    """The values of one list: its lines, stripped, blank ones left out, each once."""
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def combinations(template, texts):
    """Every combination of the values given for each variable (`texts`: name → lines).

    The first variable changes slowest. The count is known before any row is built, so
    a list past BATCH_MAX_ROWS is refused with its size without building it.
    """
    variables = template.variables
    values = {name: lines(texts.get(name) or "") for name in variables}
    source = Source(problems=[*unknown(texts, variables), *empty(values)])
    if source.problems:
        return source
    source.total = count(template, texts)
    if source.total > max_rows():
        source.problems.append(too_many_rows(source.total))
        return source
    for number, chosen in enumerate(product(*(values[name] for name in variables)), start=1):
        source.rows.append(SourceRow(number=number, values=dict(zip(variables, chosen, strict=True))))
    return source


def count(template, texts):
    """How many prompts the value lists make, without making them (a page can show it as one types)."""
    return math.prod(len(lines(texts.get(name) or "")) for name in template.variables)


def unknown(texts, variables):
    return [
        _("Values were given for {{%(name)s}}, which is not in the template.") % {"name": name}
        for name in texts
        if name not in variables
    ]


def empty(values):
    return [
        _("Give at least one value for {{%(name)s}}, one per line.") % {"name": name}
        for name, found in values.items()
        if not found
    ]
