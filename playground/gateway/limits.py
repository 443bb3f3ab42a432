"""Per-token limits, shared by every web process: requests per minute (a count per token and
minute in the database) and tasks in flight (the token's running generations)."""

import math
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from playground.generations.models import Generation

from .errors import ApiError
from .models import RequestCount

IN_FLIGHT_RETRY_SECONDS = 5


def too_many(message, seconds):
    seconds = max(1, math.ceil(seconds))
    return ApiError(429, message, headers={"Retry-After": str(seconds)})


def count_request(token):
    """Count one request; a 429 with Retry-After once the token's minute is used up."""
    limit = settings.GATEWAY_REQUESTS_PER_MINUTE
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    counted = RequestCount.objects.filter(token=token, minute=minute)
    if not counted.update(count=F("count") + 1):
        try:
            with transaction.atomic():
                RequestCount.objects.create(token=token, minute=minute, count=1)
        except IntegrityError:  # another process started the minute at the same moment
            counted.update(count=F("count") + 1)
        # A new minute: forget the ones before the last, which a process still counting it reads back.
        RequestCount.objects.filter(token=token, minute__lt=minute - timedelta(minutes=1)).delete()
    if (counted.values_list("count", flat=True).first() or 0) > limit:
        raise too_many(
            f"Rate limit reached: at most {limit} requests a minute with this token. Retry after the minute.",
            60 - (now - minute).total_seconds(),
        )


def check_in_flight(token):
    """Call inside the create's transaction, after locking the token's row."""
    limit = settings.GATEWAY_TASKS_IN_FLIGHT
    running = Generation.objects.filter(token=token).running().count()
    if running >= limit:
        raise too_many(
            f"This token has {running} tasks in progress, the most it may have at once ({limit}). "
            "Retry once one has finished.",
            IN_FLIGHT_RETRY_SECONDS,
        )
