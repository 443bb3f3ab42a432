"""Two to four result images side by side, picked on the History page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from playground.generations.models import GeneratedImage, Generation
from playground.generations.queries import public_ids
from playground.teams.access import require_membership

FEWEST, MOST = 2, 4
PAGE = "studio/compare.html"


@login_required
@require_GET
def compare(request):
    """`?image=ID` for result images, `?generation=ID` for a generation's first image; 2 to 4 in all.

    An id that is not the team's is a 404, as everywhere; a wrong count is a 400 that says so.
    """
    membership = require_membership(request)
    image_ids = public_ids(request.GET.getlist("image"))
    generation_ids = public_ids(request.GET.getlist("generation"))
    chosen = len(image_ids) + len(generation_ids)
    if not FEWEST <= chosen <= MOST:
        return TemplateResponse(request, PAGE, {"chosen": chosen, "images": []}, status=400)
    images = team_images(membership.team, image_ids)
    generations = team_generations(membership.team, generation_ids)
    images += [generation.images.all()[0] for generation in generations if generation.images.all()]
    images = list({image.pk: image for image in images}.values())  # an image named twice shows once
    enough = len(images) >= FEWEST
    context = {
        "chosen": chosen,
        "images": images if enough else [],
        "without_images": sum(not generation.images.all() for generation in generations),
    }
    return TemplateResponse(request, PAGE, context, status=200 if enough else 400)


def in_order(rows, ids):
    """The rows in the order their ids were asked for; a 404 when any is missing (or another team's)."""
    by_id = {row.public_id: row for row in rows}
    if len(by_id) != len(ids):
        raise Http404
    return [by_id[public_id] for public_id in ids]


def team_images(team, ids):
    rows = GeneratedImage.objects.for_team(team).filter(public_id__in=ids).select_related("generation__created_by", "generation__token")
    return in_order(rows, ids)


def team_generations(team, ids):
    rows = Generation.objects.for_team(team).filter(public_id__in=ids).select_related("created_by", "token")
    return in_order(rows.prefetch_related("images"), ids)
