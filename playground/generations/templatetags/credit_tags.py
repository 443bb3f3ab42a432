from django import template
from django.utils.formats import number_format

from playground.amounts import plain

register = template.Library()


@register.filter
def credits(value):
    """A credit amount as people write it, in the page's locale: 1.5, 6, 0.25."""
    if value is None or value == "":
        return ""
    return number_format(plain(value), use_l10n=True)
