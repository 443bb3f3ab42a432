"""The team's account, for owners: its EvoLink key and base URLs, and its monthly budgets.

The key goes in and never comes out: pages show its last four characters only, the
key field is never filled in again, and neither messages nor the audit log hold it.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.evolink.errors import EvoLinkError
from playground.generations import credits
from playground.teams import budgets as team_budgets
from playground.teams import key as team_key
from playground.teams.access import fragment_login_required, require_owner
from playground.teams.forms import BudgetsForm, KeyForm
from playground.teams.models import Membership
from playground.teams.upstream import KeyUnreadable, account_for, client_for

from .usage import balance_cache_key

PAGE = "studio/account.html"
HOSTING_SECONDS = 60


# -- the key -------------------------------------------------------------------------


def upstream_in_use(team):
    """Which account the team's generations go through, and where; never the key."""
    try:
        account = account_for(team)  # with the key: it tells whether the key is still readable
    except KeyUnreadable:
        return {"source": "unreadable"}
    return {"source": account.source, "base_url": account.base_url, "is_sandbox": account.is_sandbox}


def key_context(team, form=None, notices=()):
    return {
        "key_form": form
        or KeyForm(
            team=team, initial={"api_base_url": team.api_base_url, "files_base_url": team.files_base_url}
        ),
        "upstream": upstream_in_use(team),
        "default_base_url": settings.EVOLINK_BASE_URL,
        "default_files_base_url": settings.EVOLINK_FILES_BASE_URL,
        "notices": notices,
    }


@login_required
@require_http_methods(["GET", "POST"])
def key(request):
    membership = require_owner(request)
    team = membership.team
    if request.method == "GET":
        return page(request, membership)
    if request.POST.get("action") == "remove":
        return key_saved(request, team, remove_key(request, team))
    form = KeyForm(request.POST, team=team)
    if not form.is_valid():
        if request.htmx:
            # htmx swaps only 2xx answers: a 400 would leave the errors unseen.
            return TemplateResponse(request, f"{PAGE}#key", key_context(team, form))
        return page(request, membership, key=form, status=400)
    return key_saved(request, team, save_key(request, team, form.cleaned_data))


def key_saved(request, team, notices):
    """htmx gets the key section saying what happened; a plain POST is redirected, the notices kept."""
    if request.htmx:
        return TemplateResponse(request, f"{PAGE}#key", key_context(team, notices=notices))
    for notice in notices:
        messages.success(request, notice)
    return redirect("studio:key")


def save_key(request, team, cleaned):
    """Replace the key when one was typed, and save the base URLs. Returns notices."""
    key_set, urls_changed = team_key.save_account(
        team, request.user, cleaned["api_key"], cleaned["api_base_url"], cleaned["files_base_url"]
    )
    notices = []
    if key_set:
        notices.append(_("The key ending in %(last4)s is saved.") % {"last4": team.api_key_last4})
    if urls_changed:
        notices.append(_("The base URLs are saved."))
    return notices or [_("Nothing changed.")]


def remove_key(request, team):
    if not team_key.remove_key(team, request.user):
        return [_("The team has no key to remove.")]
    return [_("The team's key is removed.")]


@fragment_login_required
@require_POST
def test_key(request):
    """Ask the service for the account's balance: proof that the key (or the fallback) works;
    then for its file hosting quota, the hosted files used of the most it keeps."""
    membership = require_owner(request)
    team = membership.team
    result = {"upstream": upstream_in_use(team)}
    try:
        client = client_for(team)
        balance = client.get_credits()
    except EvoLinkError as error:  # KeyUnreadable too, with its own sentence
        result["error"] = error.message
    else:
        result.update(unlimited=balance.unlimited, remaining=balance.remaining, used=balance.used)
        result.update(hosting_quota(client))
    if request.htmx:
        return TemplateResponse(request, f"{PAGE}#test-result", {"test": result})
    return page(request, membership, test=result)


def hosting_quota(client):
    try:
        quota = client.file_quota()
    except EvoLinkError as error:
        return {"hosting_error": error.message}
    return {"hosting": {"used": quota.used, "max": quota.max}}


@fragment_login_required
@require_GET
def hosted_files(request):
    """The account's hosted files, used of the most it keeps: loaded by the Key page once it
    is shown (the files host may take seconds to answer); the whole page without JavaScript."""
    membership = require_owner(request)
    quota = team_hosting_quota(membership.team)
    if request.htmx:
        return TemplateResponse(request, f"{PAGE}#hosted-files", {"quota": quota})
    return page(request, membership, quota=quota)


def team_hosting_quota(team):
    """hosting_quota for the team's account, with one short attempt; a count read in the last
    minute is reused, an error is not kept (the next view tries again)."""
    key = f"{balance_cache_key(team)}:hosting"
    quota = cache.get(key)
    if quota is None:
        try:
            quota = hosting_quota(client_for(team, polling=True))
        except EvoLinkError as error:  # no account, an unreadable key
            return {"hosting_error": error.message}
        if "hosting" in quota:
            cache.set(key, quota, HOSTING_SECONDS)
    return quota


# -- budgets -------------------------------------------------------------------------


def budgets_form(team, data=None):
    memberships = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    return BudgetsForm(data, team=team, memberships=memberships)


def budgets_context(team, form):
    """The budget fields, each beside what its member (or the team) has used this month."""
    rows = [
        {"membership": membership, "field": field, "spent": spent_this_month(team, membership.user)}
        for membership, field in form.member_rows()
    ]
    return {
        "budgets_form": form,
        "team_spent": spent_this_month(team),
        "member_rows": rows,
        "month": credits.month_start(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def budgets(request):
    membership = require_owner(request)
    if request.method == "GET":
        return page(request, membership)
    form = budgets_form(membership.team, request.POST)
    if not form.is_valid():
        return page(request, membership, budgets=form, status=400)
    changes = form.changes()
    team_budgets.set_budgets(membership.team, request.user, changes)
    messages.success(request, _("The budgets are saved.") if changes else _("Nothing changed."))
    return redirect("studio:budgets")


def spent_this_month(team, user=None):
    return credits.spent(credits.this_month(team, user))


# -- the page ------------------------------------------------------------------------


def page(request, membership, *, key=None, budgets=None, status=200, **extra):
    team = membership.team
    context = {
        **key_context(team, key),
        **budgets_context(team, budgets or budgets_form(team)),
        # "Remove the key" asks once more, on a page of its own, before it acts.
        "confirm_remove": request.method == "GET" and "remove" in request.GET and team.has_api_key,
        **extra,
    }
    return TemplateResponse(request, PAGE, context, status=status)
