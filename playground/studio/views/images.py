"""What can be done to one result image where it is shown: vary it, and the lightbox's
panel beside it (its prompt, parameters, actions and lineage)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from playground.generations import credits, lineage, variations
from playground.generations.models import GeneratedImage
from playground.teams.access import (
    fragment_login_required,
    next_url,
    require_generating_membership,
    require_membership,
)


def team_image(membership, public_id):
    """One of the team's result images, or a 404 (another team's image does not exist here)."""
    images = GeneratedImage.objects.for_team(membership.team).select_related("generation", "generation__created_by")
    return get_object_or_404(images, public_id=public_id)


@login_required
@require_POST
def vary(request, public_id):
    """Queue the same prompt with this image as its reference, then show it on the playground.

    Refused by a budget: nothing is stored or sent, and the person is told why where they were.
    """
    membership = require_generating_membership(request)
    image = team_image(membership, public_id)
    try:
        generation = variations.vary(membership.team, request.user, image)
    except credits.BudgetExceeded as refused:
        messages.error(request, refused.message)
        return redirect(next_url(request, reverse("studio:playground")))
    return redirect(f"{reverse('studio:playground')}?g={generation.public_id}")


@fragment_login_required
@require_GET
def viewer_panel(request, public_id):
    """The lightbox's side panel for one image: its generation's prompt and parameters,
    the image's actions, and what it was made from and what was made from it."""
    membership = require_membership(request)
    image = team_image(membership, public_id)
    generation = image.generation
    context = {
        "image": image,
        "generation": generation,
        "number": image.index + 1,
        "sources": lineage.sources(generation),
        "made_from": lineage.made_from(membership.team, [image]),
        "composer": on_playground(request),
        "here": page_path(request),
    }
    return TemplateResponse(request, "studio/lightbox.html#panel", context)


def on_playground(request):
    """Whether the page asking is the playground, whose composer the actions can fill in place."""
    return page_path(request).partition("?")[0] == reverse("studio:playground")


def page_path(request):
    """The path of the page the viewer is open on (htmx names it), to come back to after a POST."""
    parts = urlsplit(request.htmx.current_url or "") if request.htmx else None
    if not parts or not parts.path.startswith("/"):
        return reverse("studio:playground")
    return parts.path + (f"?{parts.query}" if parts.query else "")
