"""Which team a request acts for. Every view scopes its queries through this."""

from django.http import Http404

from .models import Membership

SESSION_KEY = "team_id"


def current_membership(request):
    """The signed-in user's membership in the team chosen in the session, else their first."""
    if not request.user.is_authenticated:
        return None
    if not hasattr(request, "_membership"):
        memberships = Membership.objects.filter(user=request.user).select_related("team")
        chosen = request.session.get(SESSION_KEY)
        request._membership = (
            memberships.filter(team_id=chosen).first() if chosen else None
        ) or memberships.order_by("created_at").first()
    return request._membership


def require_membership(request):
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return membership
