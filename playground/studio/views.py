import hashlib
import mimetypes
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh, push_url, trigger_client_event

from playground.evolink.contract import MAX_REFERENCE_IMAGES
from playground.generations import credits, lifecycle, outages, references
from playground.generations.bucket import in_bucket
from playground.generations.forms import GenerationForm, too_many_references
from playground.generations.models import GeneratedImage, Generation, Reference, Status
from playground.teams.access import (
    current_membership,
    fragment_login_required,
    next_url,
    require_generating_membership,
    require_membership,
)
from playground.teams.upstream import account_for

from . import browse, code

PAGE = "studio/playground.html"
EARLIER = 12  # images offered in "choose from earlier images"


def history_rows(team):
    return Generation.objects.for_team(team)[: settings.HISTORY_PANEL_SIZE]


def history_version(team):
    """A fingerprint of what the History panel shows, from one small indexed query.

    Only visible fields count: a poll that changed nothing a person sees costs a 204.
    """
    shown = history_rows(team).values_list("pk", "status", "progress", "error_code")
    return hashlib.blake2b(repr(list(shown)).encode(), digest_size=8).hexdigest()


def history_context(team, version=None):
    generations = list(history_rows(team).prefetch_related("images"))
    running = sum(1 for generation in generations if generation.is_running)
    completed = sum(1 for generation in generations if generation.status == Status.COMPLETED)
    return {
        "generations": generations,
        "running": running,
        "completed": completed,
        "failed": len(generations) - running - completed,
        "version": version or history_version(team),
        "panel_size": settings.HISTORY_PANEL_SIZE,
    }


def public_ids(values):
    """The ids named, each once and in order; a 404 when any is not an id at all."""
    try:
        return list(dict.fromkeys(uuid.UUID(str(value)) for value in values))
    except ValueError:
        raise Http404 from None


def team_generation(team, public_id):
    (public_id,) = public_ids([public_id])
    queryset = Generation.objects.for_team(team).prefetch_related("images")
    return get_object_or_404(queryset, public_id=public_id)


def compose_context(form, chosen, membership):
    return {
        "form": form,
        "chosen": chosen,
        "max_references": MAX_REFERENCE_IMAGES,
        # Lazy: only the full form shows it, not the references field.
        "budgets": SimpleLazyObject(lambda: credits.budgets_left(membership.team, membership.user)),
    }


@login_required
@require_GET
def playground(request):
    membership = current_membership(request)
    if membership is None:  # left or removed from their last team: offer to start one
        return redirect("teams:create")
    if request.GET.get("g"):
        selected = team_generation(membership.team, request.GET["g"])
    else:  # where the person left off: their own latest generation
        mine = Generation.objects.for_team(membership.team).filter(created_by=request.user)
        selected = mine.prefetch_related("images").first()
    form, chosen = GenerationForm(), []
    try:
        if request.GET.get("rerun"):
            form, chosen = rerun_form(team_generation(membership.team, request.GET["rerun"]))
        elif request.GET.get("reference") and membership.can_generate:
            chosen = [picked_reference(request, membership.team, request.GET["reference"])]
    except Http404:  # an old link: the page still opens, and says so
        messages.info(request, _("That generation or image is no longer there."))
    context = {
        **compose_context(form, chosen, membership),
        "selected": selected,
        **history_context(membership.team),
    }
    return TemplateResponse(request, PAGE, context)


def opened_for_another_team(request, membership):
    """The form was opened for one team, and the person has switched teams since (in another tab)."""
    return request.POST.get("team", str(membership.team_id)) != str(membership.team_id)


def reload_for_current_team(request, membership):
    """Nothing is done for the wrong team: the page reloads, showing the team now chosen."""
    messages.warning(
        request,
        _("You switched to %(team)s in another tab, so nothing was sent. This page now shows %(team)s.")
        % {"team": membership.team.name},
    )
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect("studio:playground")


@fragment_login_required
@require_POST
def generate(request):
    """Validate, store and queue a generation; htmx gets the fresh form and the new card."""
    membership = require_generating_membership(request)
    form = GenerationForm(request.POST, request.FILES, team=membership.team)
    if opened_for_another_team(request, membership):
        return reload_for_current_team(request, membership)
    generation, status = None, 400
    if form.is_valid():
        try:
            generation = lifecycle.create(membership.team, request.user, **form.cleaned_data)
        except credits.BudgetExceeded as refused:
            form.add_error("n", refused.message)
        except outages.UNAVAILABLE:  # its transaction was rolled back whole
            form.add_error(None, _("The database is busy, so nothing was saved. Please try again in a moment."))
            status = 503
    if generation is None:
        chosen = references.chosen(membership.team, request.POST.getlist("references"))
        context = compose_context(form, chosen, membership)
        if request.htmx:
            return TemplateResponse(request, f"{PAGE}#compose", context)
        context.update(selected=None, **history_context(membership.team))
        return TemplateResponse(request, PAGE, context, status=status)
    generation.refresh_from_db()  # the queue may already have submitted it
    if not request.htmx:
        return redirect(f"{reverse('studio:playground')}?g={generation.public_id}")
    kept = {name: form.cleaned_data[name] for name in ("prompt", "size", "n", "callback_url")}
    context = {
        # The next request starts from this one, its references included (the mask is not).
        **compose_context(GenerationForm(initial=kept), generation.ordered_references(), membership),
        "selected": generation,
        "oob": True,
    }
    response = TemplateResponse(request, "studio/generated.html", context)
    return trigger_client_event(response, "generation-queued")


@fragment_login_required
@require_POST
def reference_field(request):
    """The reference images field, after adding uploads or earlier images, or removing one.

    Uploads are checked whole before any is stored: one bad file refuses the batch,
    with its name, and nothing is written.
    """
    membership = require_generating_membership(request)
    if opened_for_another_team(request, membership):
        return reload_for_current_team(request, membership)
    team = membership.team
    chosen = references.chosen(team, request.POST.getlist("references"))
    chosen = [reference for reference in chosen if str(reference.public_id) != request.POST.get("remove")]
    error = None
    try:
        files = request.FILES.getlist("images")
        count = len(chosen) + len(files) + bool(request.POST.get("add"))
        if count > MAX_REFERENCE_IMAGES:  # before decoding any file
            raise too_many_references(count)
        added = picked_reference(request, team, request.POST["add"]) if request.POST.get("add") else None
        uploads = GenerationForm.base_fields["images"].clean(files)
    except ValidationError as exc:
        error = exc
    else:
        chosen += [added] if added else []
        chosen += [references.store(team, request.user, checked) for checked in uploads]
    context = {**compose_context(GenerationForm(), list(dict.fromkeys(chosen)), membership), "reference_error": error}
    return TemplateResponse(request, "studio/references.html#field", context)


def rerun_form(generation):
    """The form as the generation was asked for, its references and mask included."""
    initial = {
        "prompt": generation.prompt,
        "size": generation.size,
        "n": generation.n,
        "strict_mask": generation.strict_mask,
        "callback_url": generation.callback_url,
        "stored_mask": generation.mask.public_id if generation.mask else "",
    }
    return GenerationForm(initial=initial), generation.ordered_references()


def picked_reference(request, team, named):
    """An earlier reference or a result image of the team, named as "reference:ID" or "image:ID"."""
    kind, _sep, public_id = named.partition(":")
    try:
        public_id = uuid.UUID(public_id)
    except ValueError:
        raise Http404 from None
    if kind == "image":
        image = get_object_or_404(GeneratedImage.objects.for_team(team).select_related("generation"), public_id=public_id)
        return references.from_result(team, request.user, image)
    return get_object_or_404(Reference, public_id=public_id, team=team, kind=Reference.Kind.IMAGE)


@fragment_login_required
@require_GET
def earlier_references(request):
    """Recent references and results of the team, to pick without uploading again."""
    membership = require_membership(request)
    team = membership.team
    context = {
        "earlier_references": Reference.objects.filter(team=team, kind=Reference.Kind.IMAGE)[:EARLIER],
        "earlier_images": GeneratedImage.objects.for_team(team)
        .select_related("generation")
        .order_by("-created_at", "-id")[:EARLIER],
    }
    return TemplateResponse(request, "studio/references.html#earlier", context)


@fragment_login_required
@require_POST
def show_code(request):
    """The API request the form would send, as cURL and as Python, with the key left out."""
    membership = require_membership(request)
    chosen = references.chosen(membership.team, request.POST.getlist("references"))
    has_mask = bool(request.FILES.get("mask") or request.POST.get("stored_mask")) and len(chosen) == 1
    return TemplateResponse(request, "studio/code.html", code.snippets(
        request.POST, chosen, has_mask, account_for(membership.team, with_key=False).base_url
    ))


@fragment_login_required
@require_GET
def history(request):
    """The History panel. Answers 204 while nothing changed, and stops polling when idle."""
    membership = require_membership(request)
    version = history_version(membership.team)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    context = history_context(membership.team, version)
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
def image_file(request, public_id, variant):
    """A result image, served only to members of the team that owns it."""
    membership = require_membership(request)
    image = get_object_or_404(
        GeneratedImage.objects.for_team(membership.team).select_related("generation"), public_id=public_id
    )
    stem = image.download_stem
    if variant == "thumb":
        return serve(image.thumbnail.name, "image/webp", stem)
    if variant == "raw":
        if not image.raw_file:
            raise Http404
        return serve(image.raw_file.name, None, f"{stem}-original")
    return serve(image.file.name, image.content_type, stem)


@login_required
@require_GET
def reference_file(request, public_id, variant):
    """A reference image or mask, served only to members of the team that owns it."""
    membership = require_membership(request)
    reference = get_object_or_404(Reference, public_id=public_id, team=membership.team)
    if variant == "thumb":
        return serve(reference.thumbnail.name, "image/webp", f"reference-{reference.public_id}")
    if variant == "raw":
        raise Http404
    return serve(reference.file.name, reference.content_type, f"{reference.kind}-{reference.public_id}")


def serve(name, content_type, stem):
    """A stored file for someone the caller has checked: streamed, or (S3_SERVE=signed) a
    redirect to a short-lived link the bucket signs, with the headers the stream would carry."""
    filename = f"{stem}.{name.rsplit('.', 1)[-1]}"
    if settings.S3_SERVE == "signed" and in_bucket():
        # References too: the mask painter lays its canvas over the reference's <img> and
        # never draws the image into it, so a cross-origin image cannot taint the canvas.
        parameters = {
            "ResponseContentDisposition": content_disposition_header(False, filename),
            "ResponseContentType": content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
        }
        seconds = settings.S3_URL_SECONDS
        response = HttpResponseRedirect(default_storage.url(name, parameters=parameters, expire=seconds))
        # The browser reuses the redirect (a History refresh does not ask again) until
        # shortly before the link it points to stops working.
        response["Cache-Control"] = f"private, max-age={seconds * 4 // 5}"
        return response
    response = FileResponse(default_storage.open(name), content_type=content_type, filename=filename)
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


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
    browse.mark_starred(rows, request.user)
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
