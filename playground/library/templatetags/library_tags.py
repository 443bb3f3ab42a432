from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from playground.batches.templates import VARIABLE

register = template.Library()


@register.filter
def marked_variables(text):
    """The prompt, escaped, with each {{variable}} marked so a template's blanks stand out."""
    parts, at = [], 0
    for found in VARIABLE.finditer(text):
        parts.append(conditional_escape(text[at:found.start()]))
        parts.append(format_html('<mark class="variable">{}</mark>', found.group(0)))
        at = found.end()
    parts.append(conditional_escape(text[at:]))
    return mark_safe("".join(parts))
