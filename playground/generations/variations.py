"""A variation of a result image: the same prompt, size and count, with the image as the
only reference, created and queued the way Generate does it (see lifecycle.create)."""

from django.db import transaction

from . import credits, lifecycle, references


@transaction.atomic
def vary(team, user, image):
    """Queue a new generation from `image`, one of the team's results.

    credits.BudgetExceeded when the budgets do not allow it: checked before the image is
    copied as a reference, so a refusal stores and sends nothing.
    """
    source = image.generation
    credits.reserve(team, user, source.n)
    reference = references.from_result(team, user, image)
    return lifecycle.create(team, user, prompt=source.prompt, size=source.size, n=source.n, references=[reference])
