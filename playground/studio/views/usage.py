"""The usage page, its CSV export, and the balance fragment: what the team used in a month,
and what its account has left."""

import csv
import hashlib

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from playground.amounts import plain
from playground.evolink.errors import EvoLinkError
from playground.generations.chart import credits_chart
from playground.generations.usage import (
    Month,
    budget_use,
    csv_cell,
    export_rows,
    member_lines,
    month_usage,
    token_lines,
)
from playground.teams.access import fragment_login_required, require_membership
from playground.teams.upstream import account_for, client_for

BALANCE_SECONDS = 60
# The token columns come last so that sheets built on the older columns keep working; they are
# empty for work done on the pages.
CSV_HEADER = ["date", "member", "generations", "images", "credits_charged", "credits_reserved", "token", "token_prefix"]


def chosen_month(request):
    """(month, error): the month asked for, or the current one and why when it is not a month."""
    text = request.GET.get("month", "").strip()
    if not text:
        return Month.current(), ""
    month = Month.parse(text)
    if month is None:
        return Month.current(), _(
            "“%(value)s” is not a month: enter one as YYYY-MM, for example %(example)s. Showing this month instead."
        ) % {
            "value": text[:20],
            "example": Month.current(),
        }
    return month, ""


def balance_cache_key(team):
    """Per team and per account: a balance read with the old key is not shown for a new one.

    The account is fingerprinted from where it points and the key's ciphertext, never the key.
    """
    account = account_for(team, with_key=False)
    used = f"{account.source}\n{account.base_url}\n{team.api_key_encrypted}"
    return f"teams:balance:{team.pk}:{hashlib.sha256(used.encode()).hexdigest()[:16]}"


def vendor_balance(team):
    """(credits, error sentence): the team's EvoLink balance, or why it could not be read.

    One short attempt (the client's polling mode): the reader can ask again by reloading.
    A balance read in the last minute is reused, so reloads and team-mates do not each
    call the vendor; an error is not kept, so the next view tries again.
    """
    key = balance_cache_key(team)
    credits = cache.get(key)
    if credits is None:
        try:
            credits = client_for(team, polling=True).get_credits()
        except EvoLinkError as error:
            return None, error.message
        cache.set(key, credits, BALANCE_SECONDS)
    return credits, ""


@login_required
@require_GET
def usage(request):
    membership = require_membership(request)
    team = membership.team
    month, month_error = chosen_month(request)
    found = month_usage(team, month)
    days = found.by_day()
    total = found.total
    memberships = team.memberships.select_related("user").order_by("user__username")
    tokens, on_pages = token_lines(team, month)
    context = {
        "month": month,
        "month_error": month_error,
        "is_current_month": month == Month.current(),
        "later_month": month.next if month.next and month < Month.current() else None,
        "total": total,
        "team_budget": budget_use(total, team.monthly_budget),
        "days": [(day, figures) for day, figures in days if figures.generations],
        "chart": credits_chart(days, month.label) if total.generations else None,
        "members": member_lines(found, memberships),
        "tokens": tokens,
        "on_pages": on_pages,
        "on_sandbox": account_for(team, with_key=False).is_sandbox,
    }
    return TemplateResponse(request, "studio/usage.html", context)


@fragment_login_required
@require_GET
def balance(request):
    """The account's balance, loaded by the usage page once it is shown (the vendor may
    take seconds to answer); a page of its own for a browser without JavaScript."""
    team = require_membership(request).team
    credits, error = vendor_balance(team)
    context = {
        "balance": credits,
        "balance_error": error,
        "on_sandbox": account_for(team, with_key=False).is_sandbox,
    }
    template = "studio/usage.html#balance" if request.htmx else "studio/usage_balance.html"
    return TemplateResponse(request, template, context)


@login_required
@require_GET
def usage_csv(request):
    """One row per day, member and personal token with activity (the token columns empty for
    work done on the pages); numbers as plain decimals for spreadsheets."""
    team = require_membership(request).team
    month, month_error = chosen_month(request)
    if month_error:
        return HttpResponseBadRequest(month_error, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, f"usage-{team.slug}-{month}.csv")},
    )
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in export_rows(team, month):
        figures = row.figures
        writer.writerow(
            [
                row.day.isoformat(),
                csv_cell(row.member),
                figures.generations,
                figures.images,
                plain(figures.charged),
                plain(figures.reserved),
                csv_cell(row.token or ""),
                row.token_prefix or "",
            ]
        )
    return response
