"""What the actions on an image need to know that a template cannot ask itself."""

from django import template

register = template.Library()


@register.filter
def starred_by(generation, user):
    """Whether `user` has the generation among their favourites. Pages that list many
    generations set `.starred` in one query (queries.mark_starred); this asks once otherwise."""
    if not hasattr(generation, "starred"):
        generation.starred = generation.favourited_by.filter(pk=user.pk).exists()
    return generation.starred
