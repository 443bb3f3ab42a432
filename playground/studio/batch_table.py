"""A previewed batch's rows as the page's table shows them: one cell per column, each with the
problems about it (rows.Problem.column), so a problem sits next to the value it is about."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

OPTIONS = (("size", _("Size")), ("n", _("Images")), ("reference", _("Reference")))
PROMPT = "prompt"  # problems about the row as a whole, or the filled prompt, are shown with it


@dataclass
class Cell:
    column: str
    label: str
    value: object
    problems: list = field(default_factory=list)


@dataclass
class TableRow:
    number: int
    cells: list
    notes: list
    ready: bool


def columns(batch):
    """(column, heading) in order: the variables, the options, then the prompt."""
    found = [(name, name) for name in batch.template.variables]
    found += [(name, label) for name, label in OPTIONS if name != "reference" or shows_references(batch)]
    return [*found, (PROMPT, _("Prompt"))]


def shows_references(batch):
    return any(row.references or any(p.column == "reference" for p in row.problems) for row in batch.rows)


def table(batch, rows):
    heads = columns(batch)
    known = {name for name, _label in heads}
    return [
        TableRow(
            number=row.number,
            cells=[
                Cell(name, label, value_of(row, name), [p.message for p in row.problems if where(p.column, known) == name])
                for name, label in heads
            ],
            notes=row.notes,
            ready=row.ready,
        )
        for row in rows
    ]


def where(column, known):
    return column if column in known and column != "" else PROMPT


def value_of(row, name):
    if name == PROMPT:
        return row.prompt
    if name == "size":
        return row.size
    if name == "n":
        return row.n
    if name == "reference":
        return ", ".join(reference.original_name for reference in row.references)
    return row.values.get(name, "")
