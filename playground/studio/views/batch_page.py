"""A batch once started: the team's batches, one batch's rows, and what can be done to it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from playground.batches import export, queries, runs, summary
from playground.generations import credits, queue
from playground.generations.models import Status
from playground.generations.queries import mark_starred
from playground.teams.access import fragment_login_required, require_membership

LIST_PAGE_SIZE = 20
ROWS_PAGE_SIZE = 48
DONE = 286  # htmx: swap this, then stop polling


@fragment_login_required
@require_GET
@vary_on_headers("HX-Request")
def batch_list(request):
    """The team's batches, newest first; the list polls itself while any of them runs."""
    membership = require_membership(request)
    page = Paginator(queries.team_batches(membership.team), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    batches = list(page.object_list)
    progress = runs.progress(batches)
    version = queries.fingerprint(sorted(progress.items()))
    if request.htmx and request.GET.get("v") == version:
        return HttpResponse(status=204)
    covers = queries.covers(batches)
    for batch in batches:
        batch.progress, batch.covers = progress[batch.pk], covers[batch.pk]
        batch.progress_line, batch.percent = summary.progress_line(batch.progress), summary.finished_share(batch.progress)
    running = any(not batch.progress.finished for batch in batches)
    context = {"page": page, "batches": batches, "running": running, "version": version}
    if not request.htmx:
        return TemplateResponse(request, "studio/batches/list.html", context)
    return TemplateResponse(request, "studio/batches/list.html#batches", context, status=200 if running else DONE)


@login_required
@require_GET
def detail(request, public_id):
    """One batch: its header, live progress, and a page of its rows with their images."""
    membership = require_membership(request)
    batch = queries.team_batch(membership.team, public_id)
    context = {**status_context(membership, batch), **rows_context(request, batch)}
    return TemplateResponse(request, "studio/batches/detail.html", context)


@fragment_login_required
@require_GET
def progress(request, public_id):
    """A live part of a batch's page, asked for every 2 s while it runs: its progress and
    buttons, or (`part=rows`) the page of rows in view. Each answers 204 while nothing it
    shows changed, so a page of rows all finished costs nothing while the rest of the batch
    runs; and the last swap once its part has finished."""
    membership = require_membership(request)
    batch = queries.team_batch(membership.team, public_id)
    if request.GET.get("part") == "rows":
        context, part = rows_context(request, batch, unless=request.GET.get("v")), "rows"
    else:
        context, part = status_context(membership, batch, unless=request.GET.get("v")), "status"
    if context is None:
        return HttpResponse(status=204)
    status = 200 if context[f"{part}_running"] else DONE
    return TemplateResponse(request, f"studio/batches/detail.html#{part}", context, status=status)


def status_context(membership, batch, unless=None):
    """The progress line, bar and buttons; None when their fingerprint is `unless`."""
    progress = runs.progress([batch])[batch.pk]
    may_change = runs.may_change(membership, batch)
    in_line = queries.in_line(batch) if may_change and not progress.finished else 0
    version = queries.status_version(progress, in_line)
    if version == unless:
        return None
    return {
        "batch": batch,
        "progress": progress,
        "progress_line": summary.progress_line(progress),
        "size_label": summary.size_label(batch.size),
        "percent": summary.finished_share(progress),
        "status_version": version,
        "status_running": not progress.finished,
        "may_change": may_change,
        "in_line": in_line,
    }


def rows_context(request, batch, unless=None):
    """A page of the batch's rows; None when their fingerprint is `unless`."""
    page = Paginator(queries.shown_rows(batch), ROWS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    version = queries.rows_version(batch, rows)
    if version == unless:
        return None
    generations = [row.generation for row in rows if row.generation]
    mark_starred(generations, request.user)
    ahead = queue.positions(batch.team) if any(g.status == Status.WAITING for g in generations) else {}
    for row in rows:
        row.ahead = ahead.get(row.generation_id)
    return {
        "batch": batch,
        "page": page,
        "rows": rows,
        "rows_version": version,
        "rows_running": any(generation.is_running for generation in generations),
    }


@fragment_login_required
@require_POST
def retry(request, public_id):
    """Send the failed rows again (who may change the batch; a viewer gets 403)."""
    membership = require_membership(request)
    batch = queries.team_batch(membership.team, public_id)
    try:
        count = runs.retry_failed(membership, batch)
    except credits.BudgetExceeded as refused:
        messages.error(request, refused.message)
    else:
        if count:
            messages.success(request, ngettext(
                "Sent %(count)d failed row again.", "Sent %(count)d failed rows again.", count) % {"count": count})
        else:
            messages.info(request, _("No row had failed: nothing was sent."))
    return redirect("studio:batch", public_id=batch.public_id)


@fragment_login_required
@require_POST
def cancel(request, public_id):
    """Cancel the rows still waiting in the line: nothing of them is sent or charged."""
    membership = require_membership(request)
    batch = queries.team_batch(membership.team, public_id)
    count = runs.cancel_waiting(membership, batch)
    if count:
        messages.success(request, ngettext(
            "Cancelled %(count)d waiting row: nothing was sent or charged for it.",
            "Cancelled %(count)d waiting rows: nothing was sent or charged for them.",
            count,
        ) % {"count": count})
    else:
        messages.info(request, _("No row was waiting any more: nothing was cancelled."))
    return redirect("studio:batch", public_id=batch.public_id)


@login_required
@require_GET
def download(request, public_id):
    """Every row's images, with manifest.csv and manifest.json, as one ZIP."""
    membership = require_membership(request)
    batch = queries.team_batch(membership.team, public_id)
    response = StreamingHttpResponse(export.zip_stream(batch), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, export.filename(batch))
    response["Cache-Control"] = "private, no-store"
    return response
