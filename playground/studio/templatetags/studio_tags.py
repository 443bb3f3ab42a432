from django import template

register = template.Library()


@register.filter
def initials(user):
    """One or two letters for a person's avatar: of their full name, else of their username."""
    if user is None:
        return "?"
    words = (user.get_full_name() or "").split()
    if len(words) >= 2:
        return (words[0][0] + words[-1][0]).upper()
    name = words[0] if words else user.get_username()
    return name[:1].upper() or "?"


@register.filter
def display_name(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


AVATAR_HUES = 6


@register.filter
def avatar_hue(user):
    """One of a few avatar colours, the same for a person on every page."""
    return (user.pk or 0) % AVATAR_HUES if user is not None else 0
