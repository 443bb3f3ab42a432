"""The team page: who is in the team, their roles, invitations; leaving, switching and new teams."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.ids import parse_id

from .. import invitations, memberships
from ..access import SESSION_KEY, next_url, require_manager, require_membership, switch_team
from ..forms import InvitationForm, SignUpForm, TeamForm
from ..invitations import AlreadyMember, InvitationTaken
from ..memberships import LastOwner
from ..models import Invitation, Membership, hash_token
from ..roles import NotInTeam, assignable_roles, may_manage

PAGE = "teams/members.html"
Role = Membership.Role


def page_context(actor, **extra):
    team = actor.team
    rows = list(Membership.objects.filter(team=team).select_related("user"))
    for row in rows:
        row.manageable = may_manage(actor, row)
    context = {
        "rows": rows,
        "sole_owner": actor.is_owner and sum(row.is_owner for row in rows) == 1,
        "roles": assignable_roles(actor),
    }
    if actor.can_manage:
        form = extra.pop("invitation_form", None) or InvitationForm()
        form.fields["role"].choices = [(role.value, role.label) for role in context["roles"]]
        context["invitation_form"] = form
        context["invitations"] = team.invitations.pending().select_related("created_by")
    return {**context, **extra}


def gone_as_404(view):
    """A member or an invitation that went a moment ago (the operations say so) is a 404."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotInTeam, Invitation.DoesNotExist):
            raise Http404 from None

    return answer


def refused(request, actor, status=409, **errors):
    """The page again, with the reason next to the control that was used; nothing changed."""
    return TemplateResponse(request, PAGE, page_context(actor, **errors), status=status)


@login_required
@require_GET
def members(request):
    actor = require_membership(request)
    return TemplateResponse(request, PAGE, page_context(actor))


@login_required
@require_POST
@gone_as_404
def invite(request):
    """Make an invitation link and show it, this once: only its hash is kept."""
    actor = require_manager(request)
    form = InvitationForm(request.POST)
    template = PAGE + ("#invitations" if request.htmx else "")
    if not form.is_valid():
        context = page_context(actor, invitation_form=form)
        return TemplateResponse(request, template, context, status=200 if request.htmx else 400)
    actor, invitation, token = invitations.issue(actor, form.cleaned_data["role"], form.cleaned_data["note"])
    context = page_context(
        actor,
        new_invitation=invitation,
        invitation_link=request.build_absolute_uri(reverse("teams:accept-invitation", args=[token])),
    )
    return TemplateResponse(request, template, context)


@login_required
@require_POST
@gone_as_404
def revoke_invitation(request, pk):
    actor = require_manager(request)
    invitations.revoke(actor.team, pk, request.user)
    messages.success(request, _("The invitation was revoked; its link no longer works."))
    return redirect("teams:members")


@login_required
@require_POST
@gone_as_404
def change_role(request, pk):
    actor = require_manager(request)
    role = request.POST.get("role")
    if role not in Role.values:
        return HttpResponseBadRequest()
    try:
        target = memberships.change_role(actor, pk, role)
    except LastOwner as refusal:
        return refused(request, actor, failed_pk=pk, failure=refusal.message)
    if target is None:  # the role it had already
        return redirect("teams:members")
    messages.success(
        request,
        _("%(name)s is now %(role)s.") % {"name": target.user.get_username(), "role": target.get_role_display()},
    )
    return redirect("teams:members")


@login_required
@require_POST
@gone_as_404
def remove_member(request, pk):
    actor = require_manager(request)
    if pk == actor.pk:
        return leave(request)
    try:
        target = memberships.remove_member(actor, pk)
    except LastOwner as refusal:
        return refused(request, actor, failed_pk=pk, failure=refusal.message)
    messages.success(request, _("%(name)s was removed from the team.") % {"name": target.user.get_username()})
    return redirect("teams:members")


@login_required
@require_POST
@gone_as_404
def leave(request):
    membership = require_membership(request)
    try:
        memberships.leave(membership)
    except LastOwner as refusal:
        return refused(request, membership, leave_error=refusal.message)
    request.session.pop(SESSION_KEY, None)
    if Membership.objects.filter(user=request.user).exists():
        return redirect(settings.LOGIN_REDIRECT_URL)
    return redirect("teams:create")  # nowhere else to go without a team


@login_required
@require_POST
def switch(request):
    team_id = parse_id(request.POST.get("team", ""))
    if team_id is None:
        raise Http404
    membership = get_object_or_404(Membership.objects.select_related("team"), user=request.user, team_id=team_id)
    switch_team(request, membership)
    # Back to the page the switcher was used on, now showing the other team.
    return redirect(next_url(request, resolve_url(settings.LOGIN_REDIRECT_URL)))


@login_required
@require_http_methods(["GET", "POST"])
def create_team(request):
    """Anyone signed in may start a team, and owns it."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = memberships.create_team(form.cleaned_data["name"], request.user)
        switch_team(request, membership)
        return redirect(settings.LOGIN_REDIRECT_URL)
    status = 400 if form.is_bound else 200
    return TemplateResponse(request, "teams/new_team.html", {"form": form}, status=status)


# -- accepting an invitation ----------------------------------------------------------------
#
# An invitation link holds a live token, and Django logs every refused request (400, 403, 405...)
# with its path. So the link only puts the invitation in the session and redirects to a URL
# without the token, where the invitation is shown and accepted.

INVITATION_PAGE = "teams/accept_invitation.html"
OPENED_INVITATION = "invitation"  # session key: the pk of the invitation whose link was opened


def why_unusable(invitation):
    if invitation.accepted_at:
        return "used"
    if invitation.revoked_at:
        return "revoked"
    return "expired"


def dead_link(request, invitation=None):
    """The page for a link that cannot be used: 404 when unknown, 410 when used, revoked or expired."""
    if invitation is not None:
        invitation.refresh_from_db()
    reason = why_unusable(invitation) if invitation else "unknown"
    context = {"reason": reason, "home_url": resolve_url(settings.LOGIN_REDIRECT_URL)}
    return TemplateResponse(request, INVITATION_PAGE, context, status=410 if invitation else 404)


def logged_without(token, request, response):
    """Log a refusal as Django would, with the token cut from the path; Django's own line is then skipped."""
    path = request.path.removesuffix(token) + "..."
    log_response("%s: %s", response.reason_phrase, path, response=response, request=request)
    return response


@csrf_exempt  # nothing is accepted here, and a refused CSRF check would be logged with the token
def accept_invitation(request, token):
    """An invitation link: remember its invitation in the session and go on without the token."""
    if request.method not in ("GET", "HEAD"):
        return logged_without(token, request, HttpResponseNotAllowed(["GET", "HEAD"]))
    invitation = Invitation.objects.filter(token_hash=hash_token(token)).first()
    if invitation is None or not invitation.is_pending:
        return logged_without(token, request, dead_link(request, invitation))
    request.session[OPENED_INVITATION] = invitation.pk
    return redirect("teams:accept-pending-invitation")


def already_in(request, invitation, membership):
    return TemplateResponse(request, INVITATION_PAGE, {"invitation": invitation, "existing": membership})


def joined(request, membership):
    request.session.pop(OPENED_INVITATION, None)
    switch_team(request, membership)
    return redirect(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def accept_pending_invitation(request):
    """Join the team of the link opened last: signed in with one button, or by making an account here."""
    opened = request.session.get(OPENED_INVITATION)
    invitation = Invitation.objects.select_related("team").filter(pk=opened).first() if opened else None
    if invitation is None or not invitation.is_pending:
        request.session.pop(OPENED_INVITATION, None)
        return dead_link(request, invitation)
    context = {"invitation": invitation}
    user = request.user
    if user.is_authenticated:
        existing = memberships.membership_in(invitation.team, user)
        if existing:
            return already_in(request, invitation, existing)
        if request.method == "POST":
            try:
                membership = invitations.join(invitation, user)
            except InvitationTaken:
                return dead_link(request, invitation)
            except AlreadyMember:  # joined through another link a moment ago
                return already_in(request, invitation, memberships.membership_in(invitation.team, user))
            return joined(request, membership)
        return TemplateResponse(request, INVITATION_PAGE, context)

    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitations.sign_up_and_join(invitation, form)
        except InvitationTaken:
            return dead_link(request, invitation)
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        return joined(request, membership)
    response = TemplateResponse(request, INVITATION_PAGE, {**context, "signup_form": form})
    add_never_cache_headers(response)  # it may hold the passwords typed, sent back
    return response
