import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from playground.generations import lifecycle
from playground.generations.forms import GenerationForm
from playground.generations.models import GeneratedImage, Generation, Status
from playground.teams.access import require_membership

PAGE = "studio/playground.html"


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


@login_required
@require_GET
def playground(request):
    membership = require_membership(request)
    if request.GET.get("g"):
        selected = team_generation(membership.team, request.GET["g"])
    else:  # where the person left off: their own latest generation
        mine = Generation.objects.for_team(membership.team).filter(created_by=request.user)
        selected = mine.prefetch_related("images").first()
    context = {"form": GenerationForm(), "selected": selected, **history_context(membership.team)}
    return TemplateResponse(request, PAGE, context)


@fragment_login_required
@require_POST
def generate(request):
    """Validate, store and queue a generation; htmx gets the fresh form and the new card."""
    membership = require_membership(request)
    if not membership.can_generate:
        return HttpResponseForbidden()
    form = GenerationForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return TemplateResponse(request, f"{PAGE}#compose", {"form": form})
        context = {"form": form, "selected": None, **history_context(membership.team)}
        return TemplateResponse(request, PAGE, context, status=400)
    generation = lifecycle.create(membership.team, request.user, **form.cleaned_data)
    generation.refresh_from_db()  # the queue may already have submitted it
    if not request.htmx:
        return redirect(f"{reverse('studio:playground')}?g={generation.public_id}")
    context = {"form": GenerationForm(initial=form.cleaned_data), "selected": generation, "oob": True}
    response = TemplateResponse(request, "studio/generated.html", context)
    return trigger_client_event(response, "generation-queued")


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
    """An image, served only to members of the team that owns it."""
    membership = require_membership(request)
    image = get_object_or_404(
        GeneratedImage.objects.select_related("generation"),
        public_id=public_id,
        generation__team=membership.team,
    )
    if variant == "thumb":
        name, content_type = image.thumbnail.name, "image/webp"
    else:
        name, content_type = image.file.name, image.content_type
    extension = name.rsplit(".", 1)[-1]
    response = FileResponse(
        default_storage.open(name),
        content_type=content_type,
        filename=f"generation-{image.generation.public_id}-{image.index + 1}.{extension}",
    )
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response
