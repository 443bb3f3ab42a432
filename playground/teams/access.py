"""Which team a request acts for, and what the person may do in it.

Every view scopes its queries through `require_membership`: a person outside the team
gets a 404, as if the thing did not exist; a member without the right role gets a 403.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseForbidden
from django.utils.http import url_has_allowed_host_and_scheme

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


def switch_team(request, membership):
    request.session[SESSION_KEY] = membership.team_id
    request._membership = membership


def require_membership(request):
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return membership


def require_generating_membership(request):
    """Owners, admins and members; viewers get a 403."""
    return require_role(request, lambda membership: membership.can_generate)


def require_manager(request):
    """Owners and admins; others get a 403."""
    return require_role(request, lambda membership: membership.can_manage)


def require_owner(request):
    return require_role(request, lambda membership: membership.is_owner)


def require_role(request, allowed):
    membership = require_membership(request)
    if not allowed(membership):
        raise PermissionDenied
    return membership


def fragment_login_required(view):
    """For fragments: a signed-out htmx request gets 403, never a login page to swap in.

    The page's script answers a 403 by reloading, which leads to the sign-in page.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                return HttpResponseForbidden()
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def next_url(request, default):
    """Where to go after a POST: the `next` path it names when that is on this site, else `default`.

    A path, never a bare word: redirect() would look a word up as a view's name, and fail.
    """
    wanted = request.POST.get("next", "")
    on_this_site = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if on_this_site and wanted.startswith("/"):
        return wanted
    return default
