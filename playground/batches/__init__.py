"""Batches: many prompts from one template, read, filled in and checked before anything is sent.

A template is a prompt with variables, `A {{product}} on a {{surface}}`. Its rows come
from value lists (one value per line for each variable: every combination) or from an
uploaded CSV/TSV file whose first row names the variables, with optional `size`, `n` and
`reference` columns. Nothing here stores or sends anything, and there are no models.

How a page, a command or the queue uses it:

    from playground.batches import preview
    from playground.batches.rows import Defaults

    defaults = Defaults(size="3:2", n=2, references=tuple(chosen_references))
    batch = preview.from_upload(team, template_text, uploaded_file.read(), defaults)
    # or: preview.from_values(team, template_text, {"product": "mug\\nvase", "surface": "oak"}, defaults)

- `batch.problems`: sentences that refuse the batch as a whole (template without
  variables, unreadable file, missing or extra column, more rows than BATCH_MAX_ROWS);
  show them at the template or file field. `batch.total` is the row count even then.
- `batch.notes`: sentences worth showing that refuse nothing (empty rows skipped).
- `batch.rows`: each `rows.Row` with its number (the spreadsheet's row; the names are
  row 1), values, filled `prompt`, `size`, `n`, `references`, `problems` (`Problem`s
  naming the column they are about, to show next to it) and `notes` (a cell that looks
  like a formula: it is used as text). A row is `ready` without problems; the person
  fixes the others or skips them explicitly.
- `batch.credits`: what the ready rows would reserve (each n × CREDITS_PER_IMAGE, as
  `generations.credits.estimate`); check it against the budgets with `credits.budgets_left`
  before creating anything, then create each ready row with `generations.lifecycle.create`.
- Rows are checked with GenerationForm, so a row passes exactly when Generate would take
  it; the budget is the one check left to the caller, for the batch as a whole.
- Messages are made in the active language: run it inside the viewer's (a page) or
  settings.LANGUAGE_CODE (a command).
- Writing a cell back into a CSV (a manifest), pass it through `formulas.guarded`.

Modules: `templates` (variables, filling), `values` (value lists), `tables` (CSV/TSV
files), `sources` (what both give), `rows` (per-row checks), `formulas` (formula-like
cells), `preview` (the whole batch).
"""
