"""Row ids as they come from outside: digits that fit the database's 64-bit integer, or nothing.

A longer number reaches the database as an integer it cannot hold, which SQLite answers
with an OverflowError; such an id names no row, so it is treated as one that does not exist.
"""

MAX_ID = 2**63 - 1


def parse_id(text):
    """The id that `text` spells, or None when it spells none a row could have."""
    if not (isinstance(text, str) and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


class IdConverter:
    """`<id:pk>`: like `<int:pk>`, but a number no row can have does not match (a 404)."""

    regex = "[0-9]+"

    def to_python(self, value):
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(f"{value} is no row id")
        return parsed

    def to_url(self, value):
        return str(value)
