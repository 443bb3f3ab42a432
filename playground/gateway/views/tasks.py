"""The vendor's image API, served by the app: create, query, credits."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from playground.evolink.contract import REPLAYED_HEADER, read_json
from playground.generations import credits
from playground.generations.models import Generation

from .. import creates, errors, idempotency, inputs, replies, requests
from ..auth import api
from ..errors import ApiError, not_found, path_id


@csrf_exempt
def unknown_path(request):
    return errors.response(request, not_found("There is no such endpoint."))


def origin(request):
    return request.build_absolute_uri("/").rstrip("/")


def replayed(generation):
    return JsonResponse(replies.created(generation), headers={REPLAYED_HEADER: "true"})


@api("POST")
def create_generation(request, token):
    body = read_json(request)
    key = idempotency.key_of(request)
    body_digest = idempotency.digest(body)
    earlier = idempotency.earlier(token, key, body_digest)
    if earlier is not None:
        return replayed(earlier)
    cleaned = requests.clean_create(body)
    chosen, mask = inputs.resolve(token.team, token.user, cleaned, origin(request))
    try:
        generation = creates.create(
            token, cleaned, chosen, mask, key=key, body_digest=body_digest, base_url=origin(request)
        )
    except credits.BudgetExceeded as refusal:
        raise ApiError(402, refusal.message) from None
    except idempotency.Replayed:
        return replayed(idempotency.earlier(token, key, body_digest))
    return JsonResponse(replies.created(generation))


@api("GET")
def task_detail(request, token, task_id):
    unknown = "No task has this id (unknown or expired)."
    generations = Generation.objects.for_team(token.team).prefetch_related("images")
    generation = generations.filter(public_id=path_id(task_id, unknown)).first()
    if generation is None:
        raise not_found(unknown)
    return JsonResponse(replies.task(generation, request))


@api("GET")
def credits_left(request, token):
    """What the token, the member and the team may still spend this month, in the vendor's shape."""
    left = credits.budgets_left(token.team, token.user, token)
    figures = {
        "token": figure(left, "token", credits.this_month(token.team, token=token)),
        "user": figure(left, "member", credits.this_month(token.team, token.user)),
        "team": figure(left, "team", credits.this_month(token.team)),
    }
    return JsonResponse(replies.credits_reply(figures))


def figure(left, whose, generations):
    """Used this month, and what is left to spend: the least of what this budget and those above it
    have left (the token is held by its cap, the member's budget and the team's; the member by
    the last two), or unlimited when none of them is set.

    Unlimited is said by the flag, as the vendor does; `remaining_credits` stays a number (0),
    since clients read it as one (see CONTRACT.md, "Credits")."""
    order = ["token", "member", "team"]
    limiting = [left[name]["left"] for name in order[order.index(whose) :] if name in left]
    return {
        "remaining_credits": float(min(limiting)) if limiting else 0.0,
        "unlimited_credits": not limiting,
        "used_credits": float(credits.spent(generations)),
    }
