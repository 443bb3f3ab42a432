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
"""

import codecs
import csv
import io
import re

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .sources import Problem, Source, SourceRow, count, max_rows, too_many_rows
from .templates import RESERVED

MAX_FILE_BYTES = 5 * 1024 * 1024  # far above 500 rows of 2,000-character prompts
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
        records = parse(decode(data), template.variables)
    except Unreadable as refused:
        return Source(problems=[refused.message])
    return rows_of(template, records)


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


def parse(text, variables):
    """The file's records (lists of cells) with their row numbers (an Excel `sep=` line is not a row)."""
    chosen = SEPARATOR_LINE.match(text)
    skipped_lines = 0
    if chosen and chosen.group(1) in SEPARATORS:
        text, separator, skipped_lines = text[chosen.end() :], chosen.group(1), 1
    else:
        separator = guess_separator(text, variables)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    records, line = [], 0
    try:
        for number, record in enumerate(reader, start=1):
            records.append(
                (number, [cell.replace("\r\n", "\n").replace("\r", "\n").strip() for cell in record])
            )
            line = reader.line_num
    except csv.Error:
        raise Unreadable(
            _(
                "Line %(line)d of the file cannot be read: a quoted cell must end with a quote, "
                "followed by a separator or the end of the line."
            )
            % {"line": skipped_lines + line + 1}
        ) from None
    return records


def guess_separator(text, variables):
    """The separator that splits the first row into the most known names; where none is known
    (or two tie), the one the first line holds most of, commas first."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")

    def score(separator):
        try:
            cells = first_filled_record(
                csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
            )
        except csv.Error:
            cells = []
        names = [name_of(cell, variables) for cell in cells]
        return (sum(name in variables or name in RESERVED for name in names), first_line.count(separator))

    return max(SEPARATORS, key=score)


def first_filled_record(reader):
    return next((cells for cells in reader if any(cell.strip() for cell in cells)), [])


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


def blank(cells):
    return not any(cells)


def rows_of(template, records):
    """1. The first row with anything in it names the columns; the names are checked.
    2. Every later row with anything in it is counted; blank ones are noted as skipped.
    3. Past BATCH_MAX_ROWS the file is refused with its count, and no row is kept."""
    first = first_filled(records)
    # Blank lines above the names go.
    records = [(number, cells) for number, cells in records if number >= first]
    if not records:
        return Source(
            problems=[
                _("The file is empty. Its first row names the variables; each row after it makes one prompt.")
            ]
        )
    (_header_number, header), body = records[0], records[1:]
    columns = [name_of(cell, template.variables) for cell in header]
    source = Source(problems=header_problems(template, columns, body))
    skipped = [number for number, cells in body if blank(cells)]
    filled = [(number, cells) for number, cells in body if not blank(cells)]
    source.total = len(filled)
    if skipped:
        source.notes.append(skipped_note(skipped))
    if not filled:
        source.problems.append(_("The file has no rows under the names in its first row."))
    elif source.total > max_rows():
        source.problems.append(too_many_rows(source.total))
    if source.problems:
        return source
    source.rows = [source_row(number, columns, cells) for number, cells in filled]
    return source


def first_filled(records):
    return next((number for number, cells in records if not blank(cells)), len(records) + 1)


def header_problems(template, columns, body):
    problems = []
    named = [name for name in columns if name]
    for name in dict.fromkeys(name for name in named if named.count(name) > 1):
        problems.append(_("The column “%(name)s” appears twice in the first row.") % {"name": name})
    for name in template.variables:
        if name not in columns:
            problems.append(
                _("There is no column “%(name)s” for {{%(name)s}}. The file's columns are: %(columns)s.")
                % {"name": name, "columns": ", ".join(named) or "—"}
            )
    for name in dict.fromkeys(named):
        if name not in template.variables and name not in RESERVED:
            problems.append(
                _(
                    "The column “%(name)s” is not a variable of the template: remove the column, or use {{%(name)s}} in the template."
                )
                % {"name": name}
            )
    for position, name in enumerate(columns):
        if not name and any(position < len(cells) and cells[position] for _number, cells in body):
            problems.append(
                _("Column %(position)d has values but no name in the first row: name it, or remove it.")
                % {"position": position + 1}
            )
    return problems


def skipped_note(numbers):
    shown = ", ".join(str(number) for number in numbers[:10]) + (", …" if len(numbers) > 10 else "")
    return ngettext(
        "%(count)s empty row was skipped (row %(rows)s).",
        "%(count)s empty rows were skipped (rows %(rows)s).",
        len(numbers),
    ) % {"count": count(len(numbers)), "rows": shown}


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
