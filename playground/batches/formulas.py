"""Cells that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1`, `-1`, `@SUM(…)`).

A batch uses every cell as plain text; nothing here evaluates anything. When such text is
written back into a CSV (a batch's manifest, say), `guarded` makes a spreadsheet show it
as text instead of running it (OWASP's advice on CSV injection: a leading apostrophe).
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text):
    return text.startswith(FORMULA_STARTS)


def guarded(text):
    """The text as a spreadsheet should show it: with a leading apostrophe when it would run as a formula."""
    text = str(text)
    return "'" + text if looks_like_formula(text) else text
