"""The tokens page: members make personal tokens for scripts and tools, see them, revoke them.

A new token is shown in the answer to the request that made it, and never again: only
its hash is kept. Owners and admins see and revoke every token of the team; members their
own; viewers make none. A token the reader may not see is a 404, as if it did not exist.
"""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from playground.gateway.links import api_base_url
from playground.generations import credits
from playground.teams import roles, tokens
from playground.teams.access import require_generating_membership, require_membership
from playground.teams.forms import TokenForm
from playground.teams.models import PersonalToken

PAGE = "teams/tokens.html"


def page_context(actor, **extra):
    may_create = roles.may_hold_tokens(actor)
    shown = list(tokens.visible_to(actor))
    spent = credits.spent_per_token(actor.team)
    for token in shown:
        token.spent = spent.get(token.pk, 0)
        token.is_mine = token.user_id == actor.user_id
        token.last_day = last_day(token)
    return {
        "tokens": shown,
        "may_create": may_create,
        "sees_every_token": roles.sees_every_token(actor),
        "form": extra.pop("form", None) or (TokenForm() if may_create else None),
        **extra,
    }


def last_day(token):
    """The last day a token works, in the deployment's time zone: it stops at `expires_at`."""
    if token.expires_at is None:
        return None
    return timezone.localtime(token.expires_at - timedelta(microseconds=1)).date()


def fragment_or_page(request, context, status=200):
    """The tokens part of the page for htmx, else the whole page."""
    template = PAGE + ("#tokens" if request.htmx else "")
    return TemplateResponse(request, template, context, status=status)


def gone_as_404(view):
    """A token the reader does not see, or a membership removed a moment ago, is a 404."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (roles.NotInTeam, PersonalToken.DoesNotExist):
            raise Http404 from None

    return answer


@login_required
@require_GET
def token_list(request):
    actor = require_membership(request)
    return TemplateResponse(request, PAGE, page_context(actor, base_url=api_base_url(request)))


@sensitive_variables("plain")
@login_required
@require_POST
@gone_as_404
def create_token(request):
    """Make a token and show it, this once, with its callback secret; a form with errors makes none."""
    actor = require_generating_membership(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return fragment_or_page(request, page_context(actor, form=form), status=200 if request.htmx else 400)
    token, plain = tokens.issue_own(
        actor,
        name=form.cleaned_data["name"],
        expires_at=form.expires_at,
        monthly_cap=form.cleaned_data["monthly_cap"],
    )
    context = page_context(actor, new_token=token, new_plain=plain, new_secret=tokens.callback_secret(token))
    return fragment_or_page(request, context)


@login_required
@require_POST
@gone_as_404
def revoke_token(request, prefix):
    actor = require_membership(request)
    token = tokens.revoke_as(actor, prefix)
    notice = _("The token “%(name)s” was revoked; scripts using it are refused from now on.") % {
        "name": token.name
    }
    if request.htmx:
        return fragment_or_page(request, page_context(actor, notice=notice))
    messages.success(request, notice)
    return redirect("studio:tokens")


@login_required
@require_GET
@gone_as_404
def callback_secret(request, prefix):
    """The secret that signs the callbacks of one's own token's tasks, for its holder only."""
    actor = require_membership(request)
    token = tokens.visible_to(actor).get(prefix=prefix, user=actor.user)
    context = page_context(actor, revealed=token, revealed_secret=tokens.callback_secret(token))
    return fragment_or_page(request, context)
