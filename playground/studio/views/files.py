"""Stored images, served only to members of the team that owns them."""

import mimetypes

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from playground.generations.bucket import in_bucket
from playground.generations.models import GeneratedImage, Reference
from playground.teams.access import require_membership


@login_required
@require_GET
def image_file(request, public_id, variant):
    """A result image, served only to members of the team that owns it; `?download` asks
    the browser to save it, under its useful name (see GeneratedImage.download_stem)."""
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
    return serve(image.file.name, image.content_type, stem, attachment="download" in request.GET)


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


def serve(name, content_type, stem, attachment=False):
    """A stored file for someone the caller has checked: streamed, or (S3_SERVE=signed) a
    redirect to a short-lived link the bucket signs, with the headers the stream would carry.
    `attachment` makes it a download rather than an image shown in the tab."""
    filename = f"{stem}.{name.rsplit('.', 1)[-1]}"
    if settings.S3_SERVE == "signed" and in_bucket():
        # References too: the mask painter lays its canvas over the reference's <img> and
        # never draws the image into it, so a cross-origin image cannot taint the canvas.
        parameters = {
            "ResponseContentDisposition": content_disposition_header(attachment, filename),
            "ResponseContentType": content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
        }
        seconds = settings.S3_URL_SECONDS
        response = HttpResponseRedirect(default_storage.url(name, parameters=parameters, expire=seconds))
        # The browser reuses the redirect (a History refresh does not ask again) until
        # shortly before the link it points to stops working.
        response["Cache-Control"] = f"private, max-age={seconds * 4 // 5}"
        return response
    response = FileResponse(
        default_storage.open(name), content_type=content_type, filename=filename, as_attachment=attachment
    )
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response
