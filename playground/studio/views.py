import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from playground.evolink.contract import MAX_REFERENCE_IMAGES
from playground.generations import lifecycle, references
from playground.generations.forms import GenerationForm, too_many_references
from playground.generations.models import GeneratedImage, Generation, Reference, Status
from playground.teams.access import require_membership

from . import code

PAGE = "studio/playground.html"
EARLIER = 12  # images offered in "choose from earlier images"


def fragment_login_required(view):
    """For fragments: a signed-out htmx request gets 403, never a login page to swap in.

    The page's script answers a 403 by reloading, which leads to the sign-in page.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                return HttpResponseForbidden()
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


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


def team_generation(team, public_id):
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    queryset = Generation.objects.for_team(team).prefetch_related("images")
    return get_object_or_404(queryset, public_id=public_id)


def compose_context(form, chosen):
    return {"form": form, "chosen": chosen, "max_references": MAX_REFERENCE_IMAGES}


def require_generating_membership(request):
    membership = require_membership(request)
    if not membership.can_generate:
        raise PermissionDenied
    return membership


@login_required
@require_GET
def playground(request):
    membership = require_membership(request)
    if request.GET.get("g"):
        selected = team_generation(membership.team, request.GET["g"])
    else:  # where the person left off: their own latest generation
        mine = Generation.objects.for_team(membership.team).filter(created_by=request.user)
        selected = mine.prefetch_related("images").first()
    context = {
        **compose_context(GenerationForm(), []),
        "selected": selected,
        **history_context(membership.team),
    }
    return TemplateResponse(request, PAGE, context)


@fragment_login_required
@require_POST
def generate(request):
    """Validate, store and queue a generation; htmx gets the fresh form and the new card."""
    membership = require_generating_membership(request)
    form = GenerationForm(request.POST, request.FILES, team=membership.team)
    if not form.is_valid():
        chosen = references.chosen(membership.team, request.POST.getlist("references"))
        context = compose_context(form, chosen)
        if request.htmx:
            return TemplateResponse(request, f"{PAGE}#compose", context)
        context.update(selected=None, **history_context(membership.team))
        return TemplateResponse(request, PAGE, context, status=400)
    generation = lifecycle.create(membership.team, request.user, **form.cleaned_data)
    generation.refresh_from_db()  # the queue may already have submitted it
    if not request.htmx:
        return redirect(f"{reverse('studio:playground')}?g={generation.public_id}")
    kept = {name: form.cleaned_data[name] for name in ("prompt", "size", "n", "callback_url")}
    context = {
        # The next request starts from this one, its references included (the mask is not).
        **compose_context(GenerationForm(initial=kept), generation.ordered_references()),
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
    team = membership.team
    chosen = references.chosen(team, request.POST.getlist("references"))
    chosen = [reference for reference in chosen if str(reference.public_id) != request.POST.get("remove")]
    error = None
    try:
        files = request.FILES.getlist("images")
        count = len(chosen) + len(files) + bool(request.POST.get("add"))
        if count > MAX_REFERENCE_IMAGES:  # before decoding any file
            raise too_many_references(count)
        added = picked_reference(request, team) if request.POST.get("add") else None
        uploads = GenerationForm.base_fields["images"].clean(files)
    except ValidationError as exc:
        error = exc
    else:
        chosen += [added] if added else []
        chosen += [references.store(team, request.user, checked) for checked in uploads]
    context = {**compose_context(GenerationForm(), list(dict.fromkeys(chosen))), "reference_error": error}
    return TemplateResponse(request, "studio/references.html#field", context)


def picked_reference(request, team):
    """An earlier reference or a result image of the team, named as "reference:ID" or "image:ID"."""
    kind, _sep, public_id = request.POST["add"].partition(":")
    try:
        public_id = uuid.UUID(public_id)
    except ValueError:
        raise Http404 from None
    if kind == "image":
        image = get_object_or_404(GeneratedImage.objects.select_related("generation"), public_id=public_id, generation__team=team)
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
        "earlier_images": GeneratedImage.objects.filter(generation__team=team)
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
    has_mask = bool(request.FILES.get("mask")) and len(chosen) == 1
    return TemplateResponse(request, "studio/code.html", code.snippets(request.POST, chosen, has_mask))


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
        GeneratedImage.objects.select_related("generation"),
        public_id=public_id,
        generation__team=membership.team,
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
    extension = name.rsplit(".", 1)[-1]
    response = FileResponse(default_storage.open(name), content_type=content_type, filename=f"{stem}.{extension}")
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response
