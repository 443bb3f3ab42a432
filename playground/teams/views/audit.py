"""The team's audit log, for owners and admins."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ..access import require_manager
from ..audit import is_team_budget
from ..invitations import INVITER_LOST_RIGHT
from ..models import AuditEvent, Membership
from ..tokens import MADE_VIEWER, MEMBER_REMOVED

PAGE_SIZE = 50
Action = AuditEvent.Action
Role = Membership.Role

# What each stored detail is called on the page; an unknown key is shown as stored.
DETAIL_LABELS = {
    "role": _("Role"),
    "from": _("From"),
    "to": _("To"),
    "member": _("Member"),
    "last4": _("Key ends in"),
    "api_base_url": _("API base URL"),
    "files_base_url": _("File hosting base URL"),
    "reason": _("Reason"),
    "images": _("Images"),
    "public_id": _("Generation id"),
    "prefix": _("Token"),
}
REASONS = {
    INVITER_LOST_RIGHT: _("The person who made it may no longer invite with this role"),
    MEMBER_REMOVED: _("Its holder left or was removed from the team"),
    MADE_VIEWER: _("Its holder was made a viewer"),
}


def shown_target(event):
    """What the change was made to; a budget change names whose budget it was."""
    if event.action != Action.BUDGET_CHANGED:
        return event.target
    if is_team_budget(event):
        return _("Team budget")
    return _("Budget of %(member)s") % {"member": event.details.get("member") or event.target}


def shown_details(event):
    """(label, value) pairs in the reader's language: roles by their names, no value as a dash.
    Whose budget changed is in the target already."""
    role_keys = {"role", "from", "to"} if event.action == Action.ROLE_CHANGED else {"role"}
    hidden = {"budget", "member"} if event.action == Action.BUDGET_CHANGED else set()
    for key, value in event.details.items():
        if key in hidden:
            continue
        if value in (None, ""):
            value = "—"
        elif key in role_keys and value in Role.values:
            value = Role(value).label
        elif key == "reason":
            value = REASONS.get(value, value)
        yield DETAIL_LABELS.get(key, key), value


@login_required
@require_GET
def audit_log(request):
    """Newest first, 50 a page, optionally only one kind of change."""
    membership = require_manager(request)
    events = AuditEvent.objects.filter(team=membership.team)
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    else:
        action = ""
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page:
        event.shown_target = shown_target(event)
        event.shown_details = list(shown_details(event))
    context = {"page": page, "action": action, "actions": AuditEvent.Action.choices}
    return TemplateResponse(request, "teams/audit.html", context)
