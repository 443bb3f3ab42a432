from django.utils.functional import SimpleLazyObject

from .access import current_membership
from .models import Membership


def current_team(request):
    membership = current_membership(request)
    return {
        "membership": membership,
        "team": membership.team if membership else None,
        # For the team switcher; only queried when a page shows it.
        "memberships": SimpleLazyObject(
            lambda: list(Membership.objects.filter(user=request.user).select_related("team").order_by("team__name"))
            if membership
            else []
        ),
    }
