"""Each row of a batch, filled in and checked by Generate's own rules (GenerationForm).

A row's `size`, `n` and `reference` (a team reference's file name) replace the batch's own
size, n and references; a row without them takes the batch's.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from playground.generations.forms import GenerationForm
from playground.generations.images import display_name
from playground.generations.models import Reference

from .formulas import looks_like_formula
from .sources import Problem
from .templates import MissingValue

# GenerationForm's field → the row's column it is about.
COLUMNS = {"references": "reference", "images": "reference", "__all__": ""}


@dataclass(frozen=True)
class Defaults:
    """The batch's own size, n and reference images, for rows that do not give theirs."""

    size: str = "1:1"
    n: int = 1
    references: tuple = ()


BATCH_DEFAULTS = Defaults()


@dataclass
class Row:
    number: int
    values: dict  # variable → value
    prompt: str  # as it would be sent; "" while a value is missing
    size: str
    n: object  # an int once checked; as given otherwise
    references: list
    problems: list = field(default_factory=list)  # Problems: the row cannot be sent until they are fixed
    notes: list = field(default_factory=list)  # sentences worth knowing that do not stop the row

    @property
    def ready(self):
        return not self.problems


def check(team, template, source_rows, defaults):
    """The rows filled in and checked, references named by the rows resolved within `team`."""
    named = by_name(
        team, {stored_name(row.options["reference"]) for row in source_rows if "reference" in row.options}
    )
    return [check_row(team, template, source_row, defaults, named) for source_row in source_rows]


def by_name(team, names):
    """The team's reference images under these file names; the newest where several share one."""
    found = {}
    for reference in Reference.objects.filter(team=team, kind=Reference.Kind.IMAGE, original_name__in=names):
        found.setdefault(reference.original_name, reference)  # the model orders newest first
    return found


def stored_name(given):
    """The name a reference is kept under for a name or path given in a cell (`photos/mug.png` → `mug.png`)."""
    return display_name(SimpleNamespace(name=given))


def check_row(team, template, source_row, defaults, named):
    options = source_row.options
    row = Row(
        number=source_row.number,
        values=source_row.values,
        prompt="",
        size=options.get("size", defaults.size),
        n=options.get("n", defaults.n),
        references=list(defaults.references),
        problems=list(source_row.problems),
        notes=formula_notes({**source_row.values, **options}),
    )
    try:
        row.prompt = template.fill(source_row.values)
    except MissingValue as missing:
        row.problems.append(Problem(missing.name, missing.message))
    if "reference" in options:
        reference = named.get(stored_name(options["reference"]))
        row.references = [reference] if reference else []
        if reference is None:
            row.problems.append(
                Problem(
                    "reference",
                    _("There is no reference image named “%(name)s” in this team.")
                    % {"name": options["reference"]},
                )
            )
    as_generate(team, row)
    return row


def as_generate(team, row):
    """Check the row as Generate checks a request; once valid, the row holds the cleaned values."""
    form = GenerationForm(
        MultiValueDict(
            {
                "prompt": [row.prompt],
                "size": [row.size],
                "n": [str(row.n)],
                "references": [str(reference.public_id) for reference in row.references],
            }
        ),
        team=team,
    )
    if form.is_valid():
        cleaned = form.cleaned_data
        row.prompt, row.size, row.n, row.references = (
            cleaned["prompt"],
            cleaned["size"],
            cleaned["n"],
            cleaned["references"],
        )
        return
    for name, messages in form.errors.items():
        if name == "prompt" and not row.prompt:
            continue  # a missing value already says why there is no prompt
        row.problems.extend(Problem(COLUMNS.get(name, name), message) for message in messages)


def formula_notes(cells):
    return [
        _("“%(column)s” starts with “%(first)s”: it is used as text, never run as a formula.")
        % {"column": column, "first": value[0]}
        for column, value in cells.items()
        if looks_like_formula(value)
    ]
