"""A gateway create: the page's own create (lifecycle.create: budgets, reservation, the queue),
with the token's limits, its Idempotency-Key and its callback around it, in one transaction."""

from django.db import transaction

from playground.generations import lifecycle
from playground.teams import tokens

from . import idempotency, limits
from .errors import REFUSED, ApiError
from .models import Callback


@transaction.atomic
def create(token, cleaned, chosen, mask, *, key, body_digest, base_url):
    """The new generation; credits.BudgetExceeded, a 429 ApiError or idempotency.Replayed leave nothing."""
    # The token's row is locked first, so two creates at once count each other's tasks in flight;
    # read again under the lock, a token revoked (or its cap changed) since the request began wins.
    token = tokens.active().select_for_update(of=("self",)).filter(pk=token.pk).select_related("team", "user").first()
    if token is None:
        raise ApiError(401, REFUSED)
    limits.check_in_flight(token)
    generation = lifecycle.create(
        token.team,
        token.user,
        prompt=cleaned["prompt"],
        size=cleaned["size"],
        n=cleaned["n"],
        references=chosen,
        mask=mask,
        # The vendor's API returns the image as made: no compositing into the reference.
        strict_mask=False,
        token=token,
    )
    idempotency.record(token, key, body_digest, generation)
    if cleaned["callback_url"]:
        # The app calls it itself (see callbacks.py): the service is never given the script's URL.
        Callback.objects.create(generation=generation, token=token, url=cleaned["callback_url"], base_url=base_url)
    return generation
