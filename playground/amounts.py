"""How amounts of credits are written: the budgets, the usage page, its chart and the audit log agree."""

from decimal import Decimal


def plain(number):
    """1.5000 → "1.5", 6.0000 → "6"."""
    text = f"{Decimal(number):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
