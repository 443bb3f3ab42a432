from django import template

from playground.generations import queue

register = template.Library()


@register.filter
def ahead(generation):
    """How many of the team's generations go before this waiting one (see queue.ahead_of)."""
    return queue.ahead_of(generation) or 0
