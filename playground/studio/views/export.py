"""ZIP downloads of one generation or of a selection (written by generations/archive.py)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from playground.generations.archive import exported, zip_stream
from playground.generations.queries import public_ids
from playground.teams.access import require_membership

MAX_SELECTION = 500


@login_required
@require_GET
def generation_zip(request, public_id):
    membership = require_membership(request)
    generation = get_object_or_404(exported(membership.team), public_id=public_id)
    return zip_response([generation], f"{generation.file_stem}.zip", folders=False)


# No CSRF check: it only reads, another site could not read the answer, and the History
# page's selection form carries no token (it would show in the compare page's address).
@csrf_exempt
@login_required
@require_POST
def selection_zip(request):
    """The generations checked on the History page; all must be the team's, or nothing is sent."""
    membership = require_membership(request)
    ids = public_ids(request.POST.getlist("generation"))
    if not ids:
        return refused(request, _("Choose at least one generation to download."))
    if len(ids) > MAX_SELECTION:
        return refused(request, ngettext(
            "A ZIP holds at most %(limit)s generations and you chose %(count)s. Choose fewer and download them in parts.",
            "A ZIP holds at most %(limit)s generations and you chose %(count)s. Choose fewer and download them in parts.",
            len(ids),
        ) % {"limit": MAX_SELECTION, "count": len(ids)})
    generations = list(exported(membership.team).filter(public_id__in=ids))
    if len(generations) != len(ids):
        raise Http404
    return zip_response(generations, f"generations-{timezone.localdate():%Y-%m-%d}.zip", folders=True)


def refused(request, sentence):
    return TemplateResponse(request, "studio/download_refused.html", {"sentence": sentence}, status=400)


def zip_response(generations, filename, folders):
    response = StreamingHttpResponse(zip_stream(generations, folders), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
