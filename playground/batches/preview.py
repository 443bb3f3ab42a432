"""A batch before anything is sent: its rows filled in and checked, its problems and its cost."""

from dataclasses import dataclass, field
from decimal import Decimal

from playground.generations import credits

from . import rows, tables, values
from .sources import Source
from .templates import Template


@dataclass
class Batch:
    template: Template
    defaults: rows.Defaults = rows.BATCH_DEFAULTS  # the batch's own size, n and references
    rows: list = field(default_factory=list)  # rows.Row, in order
    total: int = 0  # rows the source makes, also when refused as too many
    problems: list = field(default_factory=list)  # sentences: why it cannot be sent as a whole
    notes: list = field(default_factory=list)  # sentences: what was left out, and why

    @property
    def ready_rows(self):
        return [row for row in self.rows if row.ready]

    @property
    def rows_with_problems(self):
        return [row for row in self.rows if not row.ready]

    @property
    def credits(self):
        """What sending the ready rows would reserve: for each, its n × CREDITS_PER_IMAGE."""
        return sum((credits.estimate(row.n) for row in self.ready_rows), Decimal(0)).quantize(credits.PLACES)

    @property
    def images(self):
        return sum(row.n for row in self.ready_rows)

    @property
    def ready(self):
        """Nothing stands in the way: no problem for the batch, and every row ready."""
        return not self.problems and bool(self.rows) and not self.rows_with_problems


def from_values(team, template_text, texts, defaults=rows.BATCH_DEFAULTS):
    """The batch made by every combination of the values (`texts`: variable → one value per line)."""
    template = Template(template_text)
    return build(team, template, defaults, lambda: values.combinations(template, texts))


def from_upload(team, template_text, data, defaults=rows.BATCH_DEFAULTS):
    """The batch made by the rows of an uploaded CSV or TSV file (`data`: its bytes, or the open file)."""
    template = Template(template_text)
    return build(team, template, defaults, lambda: tables.read(template, data))


def build(team, template, defaults, read):
    problems = template.problems()
    source = Source(problems=problems) if problems else read()
    batch = Batch(template=template, defaults=defaults, total=source.total, problems=source.problems, notes=source.notes)
    if not source.problems:
        batch.rows = rows.check(team, template, source.rows, defaults)
    return batch
