"""The team page: who is in the team, their roles, invitations; leaving, switching and new teams."""

from itertools import count

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.log import log_response
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.ids import parse_id

from .. import audit
from ..access import SESSION_KEY, next_url, require_manager, require_membership, switch_team
from ..invitations import assignable_roles, revoke_invitations_beyond
from ..models import Invitation, Membership, Team, hash_token

PAGE = "teams/members.html"
Role = Membership.Role
Action = audit.Action

LAST_OWNER = gettext_lazy(
    "A team needs at least one owner. Make someone else an owner first."
)


class InvitationForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices, initial=Role.MEMBER)
    note = forms.CharField(
        label=gettext_lazy("For whom"),
        max_length=Invitation._meta.get_field("note").max_length,
        required=False,
        help_text=gettext_lazy("A name or an email address, so you recognise the invitation later. Nothing is sent."),
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=Team._meta.get_field("name").max_length)


def may_manage(actor, target):
    """Owners manage everyone; admins manage everyone but owners."""
    return actor.can_manage and (actor.is_owner or not target.is_owner)


def locked_owner_count(team):
    """Owners of `team`, their rows locked until the transaction ends.

    Two owners demoting each other at once must not leave the team with none; on SQLite
    the IMMEDIATE transaction mode already serializes writers, elsewhere the row locks do.
    """
    return len(Membership.objects.select_for_update().filter(team=team, role=Role.OWNER).values_list("pk"))


def locked_actor_and_target(actor, pk):
    """The actor's and the target's memberships as they are now, locked (in pk order: no deadlock).

    The actor's role was read before the transaction; another request may have demoted or
    removed them since, and what they may do is decided on the role they have now.
    """
    rows = Membership.objects.select_for_update(of=("self",)).select_related("user", "team")
    found = {row.pk: row for row in rows.filter(team=actor.team, pk__in=[actor.pk, pk]).order_by("pk")}
    actor = found.get(actor.pk)
    if actor is None:
        raise Http404  # no longer in the team
    if not actor.can_manage:
        raise PermissionDenied
    if pk not in found:
        raise Http404
    return actor, found[pk]


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
def invite(request):
    """Make an invitation link and show it, this once: only its hash is kept."""
    actor = require_manager(request)
    form = InvitationForm(request.POST)
    template = PAGE + ("#invitations" if request.htmx else "")
    if not form.is_valid():
        context = page_context(actor, invitation_form=form)
        return TemplateResponse(request, template, context, status=200 if request.htmx else 400)
    with transaction.atomic():
        # As the role is now: a demotion or removal a moment ago also revoked this person's
        # pending links, and must not be outrun by a new one.
        actor, _same = locked_actor_and_target(actor, actor.pk)
        if form.cleaned_data["role"] not in assignable_roles(actor):
            raise PermissionDenied  # an admin asking for an owner: the page never offers it
        invitation, token = Invitation.issue(
            actor.team, request.user, form.cleaned_data["role"], form.cleaned_data["note"]
        )
        audit.record(actor.team, request.user, Action.INVITATION_CREATED, invitation.note, role=invitation.role)
    context = page_context(
        actor,
        new_invitation=invitation,
        invitation_link=request.build_absolute_uri(reverse("teams:accept-invitation", args=[token])),
    )
    return TemplateResponse(request, template, context)


@login_required
@require_POST
def revoke_invitation(request, pk):
    actor = require_manager(request)
    with transaction.atomic():
        invitation = get_object_or_404(Invitation.objects.select_for_update(), pk=pk, team=actor.team)
        if invitation.is_pending:
            invitation.revoke()
            audit.record(actor.team, request.user, Action.INVITATION_REVOKED, invitation.note, role=invitation.role)
    messages.success(request, _("The invitation was revoked; its link no longer works."))
    return redirect("teams:members")


@login_required
@require_POST
def change_role(request, pk):
    actor = require_manager(request)
    role = request.POST.get("role")
    if role not in Role.values:
        return HttpResponseBadRequest()
    with transaction.atomic():
        owners = locked_owner_count(actor.team)
        actor, target = locked_actor_and_target(actor, pk)
        if not may_manage(actor, target) or role not in assignable_roles(actor):
            raise PermissionDenied
        if target.role == role:
            return redirect("teams:members")
        if target.is_owner and owners == 1:
            return refused(request, actor, failed_pk=target.pk, failure=LAST_OWNER)
        previous, target.role = target.role, role
        target.save(update_fields=["role"])
        name = target.user.get_username()
        audit.record(actor.team, request.user, Action.ROLE_CHANGED, name, **{"from": previous, "to": role})
        revoke_invitations_beyond(actor.team, target.user, target, request.user)
    messages.success(
        request,
        _("%(name)s is now %(role)s.") % {"name": name, "role": target.get_role_display()},
    )
    return redirect("teams:members")


@login_required
@require_POST
def remove_member(request, pk):
    actor = require_manager(request)
    if pk == actor.pk:
        return leave(request)
    with transaction.atomic():
        owners = locked_owner_count(actor.team)
        actor, target = locked_actor_and_target(actor, pk)
        if not may_manage(actor, target):
            raise PermissionDenied
        if target.is_owner and owners == 1:
            return refused(request, actor, failed_pk=target.pk, failure=LAST_OWNER)
        target.delete()
        name = target.user.get_username()
        audit.record(actor.team, request.user, Action.MEMBER_REMOVED, name, role=target.role)
        revoke_invitations_beyond(actor.team, target.user, None, request.user)
    messages.success(request, _("%(name)s was removed from the team.") % {"name": name})
    return redirect("teams:members")


@login_required
@require_POST
def leave(request):
    membership = require_membership(request)
    with transaction.atomic():
        owners = locked_owner_count(membership.team)
        membership = get_object_or_404(Membership.objects.select_related("team"), pk=membership.pk)
        if membership.is_owner and owners == 1:
            return refused(request, membership, leave_error=LAST_OWNER)
        Membership.objects.filter(pk=membership.pk).delete()
        audit.record(
            membership.team, request.user, Action.MEMBER_LEFT, request.user.get_username(), role=membership.role
        )
        revoke_invitations_beyond(membership.team, request.user, None, request.user)
    request.session.pop(SESSION_KEY, None)
    if Membership.objects.filter(user=request.user).exists():
        return redirect("studio:playground")
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
    return redirect(next_url(request, reverse("studio:playground")))


def slugs_for(name):
    base = slugify(name)[:40] or "team"
    yield base
    for number in count(2):
        yield f"{base}-{number}"


def new_team(name):
    """A team with the first free slug of its name. Call inside a transaction."""
    for slug in slugs_for(name):
        if Team.objects.filter(slug=slug).exists():
            continue
        try:
            with transaction.atomic():  # a savepoint: a team made at the same moment may take the slug first
                return Team.objects.create(name=name, slug=slug)
        except IntegrityError:
            continue


@login_required
@require_http_methods(["GET", "POST"])
def create_team(request):
    """Anyone signed in may start a team, and owns it."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            team = new_team(form.cleaned_data["name"])
            membership = Membership.objects.create(team=team, user=request.user, role=Role.OWNER)
            audit.record(team, request.user, Action.TEAM_CREATED, team.name)
        switch_team(request, membership)
        return redirect("studio:playground")
    status = 400 if form.is_bound else 200
    return TemplateResponse(request, "teams/new_team.html", {"form": form}, status=status)


# -- accepting an invitation ----------------------------------------------------------------
#
# An invitation link holds a live token, and Django logs every refused request (400, 403, 405...)
# with its path. So the link only puts the invitation in the session and redirects to a URL
# without the token, where the invitation is shown and accepted.

INVITATION_PAGE = "teams/accept_invitation.html"
OPENED_INVITATION = "invitation"  # session key: the pk of the invitation whose link was opened


class InvitationTaken(Exception):
    """Someone else used, or an owner revoked, the link a moment ago."""


class AlreadyMember(Exception):
    """The person joined the team a moment ago, through another link."""


def claim(invitation, user):
    """Mark the invitation used by `user`; a conditional UPDATE, so only one claim can win."""
    pending = Invitation.objects.pending().filter(pk=invitation.pk)
    return pending.update(accepted_at=timezone.now(), accepted_by=user) == 1


def join(invitation, user):
    """1. claim the link, 2. add the membership, 3. log it. Call inside a transaction."""
    try:
        with transaction.atomic():  # a savepoint: when the membership exists, the claim is undone too
            if not claim(invitation, user):
                raise InvitationTaken
            membership = Membership.objects.create(team=invitation.team, user=user, role=invitation.role)
    except IntegrityError:
        raise AlreadyMember from None
    audit.record(invitation.team, user, Action.INVITATION_ACCEPTED, user.get_username(), role=invitation.role)
    return membership


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
    return TemplateResponse(request, INVITATION_PAGE, {"reason": reason}, status=410 if invitation else 404)


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


def membership_in(team, user):
    return Membership.objects.filter(team=team, user=user).first()


def already_in(request, invitation, membership):
    return TemplateResponse(request, INVITATION_PAGE, {"invitation": invitation, "existing": membership})


def joined(request, membership):
    request.session.pop(OPENED_INVITATION, None)
    switch_team(request, membership)
    return redirect("studio:playground")


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
        existing = membership_in(invitation.team, user)
        if existing:
            return already_in(request, invitation, existing)
        if request.method == "POST":
            try:
                with transaction.atomic():
                    membership = join(invitation, user)
            except InvitationTaken:
                return dead_link(request, invitation)
            except AlreadyMember:  # joined through another link a moment ago
                return already_in(request, invitation, membership_in(invitation.team, user))
            return joined(request, membership)
        return TemplateResponse(request, INVITATION_PAGE, context)

    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # no account without the membership it was made for
                user = form.save()
                membership = join(invitation, user)
        except InvitationTaken:
            return dead_link(request, invitation)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return joined(request, membership)
    return TemplateResponse(request, INVITATION_PAGE, {**context, "signup_form": form})
