"""Rows from an uploaded CSV or TSV file whose first row names the template's variables.

What spreadsheets export is read as it comes:
- UTF-8 with or without a byte order mark, and UTF-16 with one ("Unicode text");
  anything else is refused, saying to save as CSV UTF-8 (guessing a legacy code page
  would turn accents into other letters without a word).
- Cells separated by commas, semicolons (many locales' "CSV") or tabs: the separator
  is the one that splits the first row into the most known column names (an Excel
  `sep=;` first line is honoured).
- Quoted cells, newlines inside them included; cells are stripped of surrounding spaces.
- Optional columns `size`, `n` and `reference` beside the variables; names are matched
  whatever their case where that is not ambiguous ("Product" fills {{product}}).

A row with no value at all is skipped, and the notes say which (a spreadsheet often ends
in blank lines, which are no mistake); a row missing only some values is kept, with a
problem for each (see templates.MissingValue). Rows are numbered as the spreadsheet
shows them: the names are row 1.

What a file can cost is bounded: it is read a record at a time and at most
BATCH_MAX_ROWS + 1 rows are kept (the rest are only counted, so a refusal gives the
file's true count: counting costs no more than the csv module's own reading); a first row
of more than MAX_COLUMNS cells is refused before anything else is checked; a message
lists at most LISTED_NAMES column names.
"""

import codecs
import csv
import io
import re
from collections import Counter

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .sources import Problem, Source, SourceRow, count, max_rows, too_many_rows
from .templates import RESERVED

MAX_FILE_BYTES = 5 * 1024 * 1024  # far above 500 rows of 2,000-character prompts
# A column for each variable (templates.MAX_VARIABLES), size, n and reference, with room
# for empty ones a spreadsheet adds.
MAX_COLUMNS = 50
LISTED_NAMES = 10  # column names a message lists; the rest are counted
MAX_NAME_SHOWN = 60  # characters of a column's name a message shows
SKIPPED_SHOWN = 10  # numbers of skipped rows a note shows
SEPARATORS = (",", ";", "\t")
SEPARATOR_LINE = re.compile(r"\Asep=(.)\r?\n")


class Unreadable(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def read(template, data):
    """The rows of an uploaded file for this template, or the problems that refuse it.

    `data` is the file's bytes, or an open file, of which no more than MAX_FILE_BYTES + 1 are read.
    """
    if hasattr(data, "read"):
        data = data.read(MAX_FILE_BYTES + 1)
    try:
        return rows_of(template, records(decode(data), template.variables))
    except Unreadable as refused:
        return Source(problems=[refused.message])


def decode(data):
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(
            _("The file is larger than %(limit)s MB, the most a batch file can be.")
            % {"limit": MAX_FILE_BYTES // 2**20}
        )
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:  # NULs: UTF-16 without its mark, UTF-32, or not text at all
        raise Unreadable(
            _(
                "The file is not UTF-8 or UTF-16 text. In your spreadsheet, save it as “CSV UTF-8” "
                "(or “Unicode text”) and upload that."
            )
        )
    return text


def records(text, variables):
    """The file's records (lists of cells, as read) with their row numbers, one at a time: a file
    of millions of short lines is never held as a list (an Excel `sep=` line is not a row)."""
    chosen = SEPARATOR_LINE.match(text)
    skipped_lines = 0
    if chosen and chosen.group(1) in SEPARATORS:
        text, separator, skipped_lines = text[chosen.end() :], chosen.group(1), 1
    else:
        separator = guess_separator(text, variables)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    line = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
            line = reader.line_num
    except csv.Error as error:
        raise unreadable(error, skipped_lines + line + 1) from None


def unreadable(error, line):
    """The csv module's refusal in words: a cell past its field size limit (131,072 characters,
    left as it is: the limit is the whole process's) is a cell too long, anything else a quote."""
    if str(error).startswith("field larger than field limit"):
        return Unreadable(
            _(
                "Line %(line)d of the file starts a cell of more than %(limit)s characters, far more than "
                "a prompt can be (at most %(prompt)s). If the cell starts with a quote, check that it ends with one."
            )
            % {"line": line, "limit": count(csv.field_size_limit()), "prompt": count(settings.PROMPT_MAX_LENGTH)}
        )
    return Unreadable(
        _(
            "Line %(line)d of the file cannot be read: a quoted cell must end with a quote, "
            "followed by a separator or the end of the line."
        )
        % {"line": line}
    )


def guess_separator(text, variables):
    """The separator that splits the first row into the most known names; where none is known
    (or two tie), the one the first line holds most of, commas first."""
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")

    def score(separator):
        try:
            cells = first_filled_record(
                csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
            )
        except csv.Error:
            cells = []
        names = [name_of(cell, variables) for cell in cells[: MAX_COLUMNS + 1]]
        return (sum(name in variables or name in RESERVED for name in names), first_line.count(separator))

    return max(SEPARATORS, key=score)


def first_filled_record(reader):
    return next((cells for cells in reader if filled(cells)), [])


def name_of(cell, variables):
    """The column's name: a variable's own spelling where the case alone differs (a spreadsheet's
    "Product" for {{product}}), the optional columns in lower case."""
    name = cell.strip()
    if name in variables:
        return name
    if name.lower() in RESERVED:
        return name.lower()
    same = [variable for variable in variables if variable.casefold() == name.casefold()]
    return same[0] if len(same) == 1 else name


def filled(cells):
    """Whether any cell holds more than spaces (one join, not a loop: a file can have millions of rows)."""
    return not "".join(cells).isspace() and any(cells)


def cleaned(cells):
    return [cell.replace("\r\n", "\n").replace("\r", "\n").strip() for cell in cells]


def rows_of(template, records):
    """1. The first row with anything in it names the columns; the names are checked.
    2. Every later row with anything in it is counted; blank ones are noted as skipped.
    3. Rows are kept only up to BATCH_MAX_ROWS + 1; the rest are counted, so a file past the
       limit is refused with its true count, and no row is kept.
    Reading goes on to the end of the file (at most MAX_FILE_BYTES), keeping only the counts."""
    header = next((cells for _number, cells in records if filled(cells)), None)
    if header is None:
        return Source(
            problems=[
                _("The file is empty. Its first row names the variables; each row after it makes one prompt.")
            ]
        )
    if len(header) > MAX_COLUMNS:
        return Source(problems=[too_many_columns(len(header))])
    columns = [name_of(cell, template.variables) for cell in cleaned(header)]
    body = Body(columns, keep=max_rows() + 1)
    for number, cells in records:
        body.take(number, cells)
    source = Source(total=body.total, problems=header_problems(template, columns, body.unnamed_with_values))
    if body.skipped:
        source.notes.append(skipped_note(body.skipped_numbers, body.skipped))
    if not body.total:
        source.problems.append(_("The file has no rows under the names in its first row."))
    elif body.total > max_rows():
        source.problems.append(too_many_rows(body.total))
    if source.problems:
        return source
    source.rows = [source_row(number, columns, cells) for number, cells in body.kept]
    return source


class Body:
    """The rows under the names, read one at a time: the first `keep` filled ones kept (cleaned),
    every filled one counted, and of the blank ones the count and the first numbers."""

    def __init__(self, columns, keep):
        self.unnamed = [position for position, name in enumerate(columns) if not name]
        self.keep = keep
        self.kept = []
        self.total = 0
        self.skipped = 0
        self.skipped_numbers = []
        self.unnamed_with_values = set()

    def take(self, number, cells):
        if not filled(cells):
            self.skipped += 1
            if len(self.skipped_numbers) < SKIPPED_SHOWN:
                self.skipped_numbers.append(number)
            return
        self.total += 1
        self.unnamed_with_values.update(
            position for position in self.unnamed if position < len(cells) and cells[position].strip()
        )
        if len(self.kept) < self.keep:
            self.kept.append((number, cleaned(cells)))


def too_many_columns(found):
    return _(
        "The first row has %(count)s columns; a batch file has at most %(limit)s: one for each variable, "
        "and size, n and reference if you use them."
    ) % {"count": count(found), "limit": MAX_COLUMNS}


def header_problems(template, columns, unnamed_with_values):
    problems = []
    named = [name for name in columns if name]
    for name, times in Counter(named).items():
        if times > 1:
            problems.append(_("The column “%(name)s” appears twice in the first row.") % {"name": shown(name)})
    for name in template.variables:
        if name not in columns:
            problems.append(
                _("There is no column “%(name)s” for {{%(name)s}}. The file's columns are: %(columns)s.")
                % {"name": name, "columns": listed(named) or "—"}
            )
    for name in dict.fromkeys(named):
        if name not in template.variables and name not in RESERVED:
            problems.append(
                _(
                    "The column “%(name)s” is not a variable of the template: remove the column, or use {{%(name)s}} in the template."
                )
                % {"name": shown(name)}
            )
    for position in sorted(unnamed_with_values):
        problems.append(
            _("Column %(position)d has values but no name in the first row: name it, or remove it.")
            % {"position": position + 1}
        )
    return problems


def shown(name):
    """A column's name as a message shows it: a cell of a thousand characters is no name to read whole."""
    return name if len(name) <= MAX_NAME_SHOWN else name[:MAX_NAME_SHOWN] + "…"


def listed(names):
    """The names, the first LISTED_NAMES of them, then how many more there are."""
    shown_names = ", ".join(shown(name) for name in names[:LISTED_NAMES])
    more = len(names) - LISTED_NAMES
    if more <= 0:
        return shown_names
    return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", more) % {
        "names": shown_names,
        "count": count(more),
    }


def skipped_note(numbers, skipped):
    """`numbers`: the first SKIPPED_SHOWN of the `skipped` rows' numbers."""
    rows = ", ".join(str(number) for number in numbers) + (", …" if skipped > len(numbers) else "")
    return ngettext(
        "%(count)s empty row was skipped (row %(rows)s).",
        "%(count)s empty rows were skipped (rows %(rows)s).",
        skipped,
    ) % {"count": count(skipped), "rows": rows}


def source_row(number, columns, cells):
    row = SourceRow(number=number, values={})
    for position, cell in enumerate(cells):
        name = columns[position] if position < len(columns) else None
        if name in RESERVED:
            if cell:
                row.options[name] = cell
        elif name:
            row.values[name] = cell
    extra = cells[len(columns) :]
    if any(extra):
        row.problems.append(
            Problem(
                "",
                _("This row has %(cells)d cells, but the first row names %(columns)d columns.")
                % {"cells": filled_length(cells), "columns": len(columns)},
            )
        )
    return row


def filled_length(cells):
    """How many cells the row has up to its last filled one (a spreadsheet's trailing separators left out)."""
    return max(position for position, cell in enumerate(cells) if cell) + 1
