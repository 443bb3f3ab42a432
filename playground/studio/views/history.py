"""The team's history: the panel beside the playground, a generation's card, the
History page with its filters, and starring a generation there."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, trigger_client_event

from playground.generations.queries import listed_generation, mark_starred, team_generation
from playground.studio import browse
from playground.studio.history_panel import history_context, history_version, shown_items
from playground.teams.access import fragment_login_required, next_url, require_membership

PAGE = "studio/playground.html"


@fragment_login_required
@require_GET
def history(request):
    """The History panel. Answers 204 while nothing changed, and stops polling when idle."""
    membership = require_membership(request)
    items = shown_items(membership.team)
    version = history_version(membership.team, items)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    context = history_context(membership.team, items, version)
    response = TemplateResponse(request, f"{PAGE}#history", context)
    if not context["running"]:
        response.status_code = 286  # htmx: swap this, then stop polling
    return trigger_client_event(response, "history-changed")


@fragment_login_required
@require_GET
def generation_card(request, public_id):
    membership = require_membership(request)
    generation = team_generation(membership.team, public_id)
    return TemplateResponse(request, f"{PAGE}#result", {"selected": generation})


@login_required
@require_GET
@vary_on_headers("HX-Request")
def generations(request):
    """The team's whole history, filtered by what the URL says, one keyset page at a time.

    htmx swaps only the results (and pushes the URL, so Back works); a history restore
    or a plain request gets the full page.
    """
    membership = require_membership(request)
    filters = browse.HistoryFilters(request.GET or None, team=membership.team)
    rows, next_cursor = browse.page(
        browse.filtered(membership.team, request.user, filters), request.GET.get("after")
    )
    mark_starred(rows, request.user)
    query = shared_query(request.GET)
    context = {
        "filters": filters,
        "rows": rows,
        "next_cursor": next_cursor,
        "query": query.urlencode(),
        "is_first_page": not request.GET.get("after"),
        "layout": "list" if request.GET.get("layout") == "list" else "grid",
    }
    if not (request.htmx and not request.htmx.history_restore_request):
        return TemplateResponse(request, "studio/generations.html", context)
    # The address to share is the view without empty fields or the page position.
    response = TemplateResponse(request, "studio/generations.html#browse", context)
    address = request.path + (f"?{query.urlencode()}" if query else "")
    if request.GET.get("after"):
        address += ("&" if query else "?") + urlencode({"after": request.GET["after"]})
    return push_url(response, address)


@fragment_login_required
@require_GET
def gallery_tile(request, public_id):
    """One tile of the History page, asked for again while its generation runs."""
    membership = require_membership(request)
    context = {
        "row": listed_generation(membership.team, request.user, public_id),
        "layout": "list" if request.GET.get("layout") == "list" else "grid",
        "back": reverse("studio:generations"),  # where its star sends a browser without htmx
    }
    return TemplateResponse(request, "studio/generations.html#tile", context)


def shared_query(params):
    """The filters that narrow the view, without empty ones, defaults or the page cursor."""
    query = QueryDict(mutable=True)
    for name, values in params.lists():
        kept = [value for value in values if value and not (name == "layout" and value == "grid")]
        if kept and name != "after":
            query.setlist(name, kept)
    return query


@fragment_login_required
@require_POST
def favourite(request, public_id):
    """Star or unstar a generation for the person asking; answers with the button."""
    membership = require_membership(request)
    generation = team_generation(membership.team, public_id)
    # The wanted state, not a toggle: a double click or a retry stays what was asked.
    starred = request.POST.get("starred") == "1"
    (generation.favourited_by.add if starred else generation.favourited_by.remove)(request.user)
    if not request.htmx:
        return redirect(next_url(request, reverse("studio:generations")))
    generation.starred = starred
    return TemplateResponse(request, "studio/generations.html#favourite", {"row": generation})
