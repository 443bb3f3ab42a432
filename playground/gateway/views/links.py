"""The signed links replies give: a result (24 hours) or an uploaded file (72 hours).

The signature is the permission, as with the vendor's own links: no token is needed to
open one, so a script can hand it to any tool.
"""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from playground.generations.models import GeneratedImage, Reference

from .. import links


def serve(stored, stem):
    response = FileResponse(
        default_storage.open(stored.file.name),
        content_type=stored.content_type,
        filename=f"{stem}.{stored.extension}",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def result(request, signed, extension):
    found = links.read("result", signed)
    if found is None:
        raise Http404
    image = (
        GeneratedImage.objects.filter(generation__team_id=found.team_id, generation__deleted_at__isnull=True)
        .select_related("generation")
        .filter(public_id=found.public_id)
        .first()
    )
    if image is None or image.extension != extension:
        raise Http404
    return serve(image, image.download_stem)


@require_safe
def file(request, signed, extension):
    found = links.read("file", signed)
    if found is None:
        raise Http404
    reference = Reference.objects.filter(
        team_id=found.team_id, public_id=found.public_id, link_deleted_at__isnull=True
    ).first()
    if reference is None or reference.extension != extension:
        raise Http404
    return serve(reference, f"file-{reference.public_id}")
