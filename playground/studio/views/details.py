"""One generation in full, and what can be done to it there: tag it, delete it."""

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from playground.batches import origin
from playground.generations import lineage, operations, queue
from playground.generations.forms import TagsForm
from playground.generations.models import Status
from playground.generations.queries import mark_starred, shown_generation, team_generation
from playground.teams.access import fragment_login_required, require_membership

PAGE = "studio/details.html"


def duration_words(seconds):
    """A duration as people say it: 45 s, 1 min 12 s, 2 h 5 min."""
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 1:
        return _("under 1 s")
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        if not seconds:
            return _("%(minutes)d min") % {"minutes": minutes}
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}


def seconds_between(start, end):
    return (end - start).total_seconds() if start and end else None


def timeline(generation):
    """Each status the generation entered, with when and how long after the first.

    Rows older than the timeline have only their timestamps, which tell the main steps.
    """
    steps = [
        (Status(status).label if status in Status.values else status, datetime.fromisoformat(at))
        for status, at in generation.timeline
    ] or [
        (label, at)
        for label, at in [
            (_("Created"), generation.created_at),
            (_("Sent to the service"), generation.submitted_at),
            (_("Done at the service"), generation.upstream_completed_at),
            (generation.get_status_display(), generation.finished_at),
        ]
        if at
    ]
    start = steps[0][1] if steps else None
    return [
        {"label": label, "at": at, "after": duration_words(seconds_between(start, at)) if at != start else ""}
        for label, at in steps
    ]


def detail_context(request, membership, generation, **extra):
    mark_starred([generation], request.user)
    tag_names = [tag.name for tag in generation.tags.all()]
    return {
        "generation": generation,
        "references": generation.ordered_references(),
        "steps": timeline(generation),
        "estimated": duration_words(generation.estimated_seconds),
        "took": duration_words(seconds_between(generation.submitted_at, generation.finished_at)),
        "service_took": duration_words(seconds_between(generation.submitted_at, generation.upstream_completed_at)),
        "tag_names": tag_names,
        "tags_form": TagsForm(initial={"tags": ", ".join(tag_names)}),
        "may_delete": operations.may_delete(membership, generation),
        "ahead": queue.ahead_of(generation) if generation.status == Status.WAITING else None,
        "sources": lineage.sources(generation),
        "made_from": lineage.made_from(membership.team, generation.images.all()),
        "batch_row": origin.row_of(generation),
        **extra,
    }


@fragment_login_required  # it polls itself while running: signed out, htmx gets 403, not a login page
@require_GET
def detail(request, public_id):
    """Everything about one generation; `?confirm-delete` asks before deleting it."""
    membership = require_membership(request)
    generation = shown_generation(membership.team, public_id)
    context = detail_context(request, membership, generation)
    context["confirm_delete"] = "confirm-delete" in request.GET and context["may_delete"]
    return TemplateResponse(request, PAGE, context)


@fragment_login_required
@require_POST
def tags(request, public_id):
    """Replace the generation's tags; htmx gets the tags section, a plain POST the page."""
    membership = require_membership(request)
    generation = shown_generation(membership.team, public_id)
    if not operations.may_tag(membership):  # before reading what was sent
        raise PermissionDenied
    form = TagsForm(request.POST)
    if not form.is_valid():
        context = detail_context(request, membership, generation, tags_form=form)
        if request.htmx:  # 422 is swapped too (see base.html's htmx config)
            return TemplateResponse(request, f"{PAGE}#tags", context, status=422)
        return TemplateResponse(request, PAGE, context, status=400)
    operations.set_tags(membership, generation, form.cleaned_data["tags"])
    if not request.htmx:
        return redirect("studio:generation-detail", public_id=generation.public_id)
    generation = shown_generation(membership.team, public_id)
    return TemplateResponse(request, f"{PAGE}#tags", detail_context(request, membership, generation, tags_saved=True))


@fragment_login_required
@require_POST
def delete(request, public_id):
    """Delete a finished generation, its images and their files (see `operations.delete_generation`)."""
    membership = require_membership(request)
    generation = team_generation(membership.team, public_id)
    try:
        count = operations.delete_generation(membership, generation)
    except operations.StillRunning:
        return still_running(request, membership, generation)
    messages.success(request, deleted_message(generation, count))
    if request.htmx:
        return HttpResponseClientRedirect(reverse("studio:generations"))
    return redirect("studio:generations")


def still_running(request, membership, generation):
    generation = shown_generation(membership.team, generation.public_id)
    refusal = _("This generation is still running, so it cannot be deleted yet. Try again once it has finished.")
    context = detail_context(request, membership, generation, delete_refused=refusal)
    return TemplateResponse(request, f"{PAGE}#delete" if request.htmx else PAGE, context, status=409)


def deleted_message(generation, count):
    prompt = Truncator(generation.prompt).chars(60)
    if not count:
        return _("Deleted “%(prompt)s”.") % {"prompt": prompt}
    return ngettext(
        "Deleted “%(prompt)s” and its %(count)d image.",
        "Deleted “%(prompt)s” and its %(count)d images.",
        count,
    ) % {"prompt": prompt, "count": count}

