"""Finding a team's generations by the ids pages are given.

Every lookup is scoped to the team: another team's generation is a 404, as if it did
not exist, and so is a value that is not an id at all.
"""

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Generation


def public_ids(values):
    """The ids named, each once and in order; a 404 when any is not an id at all."""
    try:
        return list(dict.fromkeys(uuid.UUID(str(value)) for value in values))
    except ValueError:
        raise Http404 from None


def team_generation(team, public_id):
    (public_id,) = public_ids([public_id])
    queryset = Generation.objects.for_team(team).prefetch_related("images")
    return get_object_or_404(queryset, public_id=public_id)


def shown_generation(team, public_id):
    """The generation with everything its details page shows, in a handful of queries."""
    queryset = (
        Generation.objects.for_team(team)
        .select_related("created_by", "mask", "token")
        .prefetch_related("images", "tags")
    )
    return get_object_or_404(queryset, public_id=public_id)


def listed_generation(team, user, public_id):
    """The generation as the History page lists it: its images, author, token, batch and star."""
    (public_id,) = public_ids([public_id])
    queryset = Generation.objects.for_team(team).select_related("created_by", "token", "batch").prefetch_related("images")
    generation = get_object_or_404(queryset, public_id=public_id)
    mark_starred([generation], user)
    return generation


def mark_starred(generations, user):
    """Set `.starred` on each generation: whether it is among `user`'s favourites (one query)."""
    starred = set(user.favourite_generations.filter(pk__in=[row.pk for row in generations]).values_list("pk", flat=True))
    for generation in generations:
        generation.starred = generation.pk in starred
