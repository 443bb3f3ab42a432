"""One generation in full, and what can be done to it there: tag it, delete it."""

import logging
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from playground.generations.models import RUNNING, Generation, Status, Tag
from playground.teams import audit
from playground.teams.access import fragment_login_required, require_membership

from .browse import mark_starred
from .views import team_generation

logger = logging.getLogger(__name__)

PAGE = "studio/details.html"
MAX_TAGS = 12
MAX_TAG_LENGTH = Tag._meta.get_field("name").max_length


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,  # empty clears the tags
        help_text=gettext_lazy("Separate tags with commas, e.g. poster, autumn campaign."),
    )

    def clean_tags(self):
        """Lower-case words with single spaces, each once, in the order given."""
        names = [" ".join(part.split()).lower() for part in self.cleaned_data["tags"].split(",")]
        names = list(dict.fromkeys(name for name in names if name))
        too_long = [name for name in names if len(name) > MAX_TAG_LENGTH]
        if too_long:
            raise forms.ValidationError(
                _("“%(tag)s” is longer than %(limit)d characters.")
                % {"tag": Truncator(too_long[0]).chars(MAX_TAG_LENGTH), "limit": MAX_TAG_LENGTH}
            )
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(
                _("At most %(limit)d tags, and this has %(count)d.") % {"limit": MAX_TAGS, "count": len(names)}
            )
        return names


def shown_generation(team, public_id):
    """The generation with everything the page shows, in a handful of queries."""
    queryset = (
        Generation.objects.for_team(team)
        .select_related("created_by", "mask")
        .prefetch_related("images", "tags")
    )
    return get_object_or_404(queryset, public_id=public_id)


def may_delete(membership, generation):
    """Owners and admins, and the person who made it while they may still generate (viewers only look)."""
    made_it = generation.created_by_id == membership.user_id
    return membership.can_manage or (made_it and membership.can_generate)


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
        "may_delete": may_delete(membership, generation),
        **extra,
    }


@login_required
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
    if not membership.can_generate:
        raise PermissionDenied
    form = TagsForm(request.POST)
    if not form.is_valid():
        context = detail_context(request, membership, generation, tags_form=form)
        if request.htmx:  # 422 is swapped too (see base.html's htmx config)
            return TemplateResponse(request, f"{PAGE}#tags", context, status=422)
        return TemplateResponse(request, PAGE, context, status=400)
    with transaction.atomic():
        chosen = [Tag.objects.get_or_create(team=membership.team, name=name)[0] for name in form.cleaned_data["tags"]]
        generation.tags.set(chosen)
    if not request.htmx:
        return redirect("studio:generation-detail", public_id=generation.public_id)
    generation = shown_generation(membership.team, public_id)
    return TemplateResponse(request, f"{PAGE}#tags", detail_context(request, membership, generation, tags_saved=True))


@fragment_login_required
@require_POST
def delete(request, public_id):
    """Delete a finished generation, its images and their files.

    1. Only the person who made it, or an owner or admin; never while it runs, since
       the tracker would go on working on it.
    2. Its prompt, images, tags and reference links go; the references stay (other
       generations may use them), and so does the row with what it cost, so budgets
       and usage still count it. The audit log keeps the prompt's first 80 characters,
       so owners and admins can tell what went.
    3. The files go once that is committed, so a rollback leaves nothing missing.
    """
    membership = require_membership(request)
    generation = team_generation(membership.team, public_id)
    if not may_delete(membership, generation):
        raise PermissionDenied
    images = list(generation.images.all())
    files = [name for image in images for name in (image.file.name, image.thumbnail.name, image.raw_file.name) if name]
    with transaction.atomic():
        # Checked in the UPDATE itself, so a generation that started running meanwhile stays.
        deleted = forget(generation)
        if deleted:
            audit.record(
                membership.team,
                request.user,
                audit.Action.GENERATION_DELETED,
                target=Truncator(generation.prompt).chars(80),
                images=len(images),
                public_id=str(generation.public_id),
            )
            transaction.on_commit(lambda: remove_files(files))
    if not deleted:
        return still_running(request, membership, generation)
    messages.success(request, deleted_message(generation, len(images)))
    if request.htmx:
        return HttpResponseClientRedirect(reverse("studio:generations"))
    return redirect("studio:generations")


def forget(generation):
    """Mark a finished generation deleted and drop what it asked for and made. 1 if done, else 0."""
    finished = Generation.objects.filter(pk=generation.pk, deleted_at__isnull=True).exclude(status__in=RUNNING)
    done = finished.update(
        deleted_at=timezone.now(), prompt="", prompt_folded="", callback_url="", image_urls=[], mask_url="", result_urls=[], mask=None
    )
    if done:
        generation.images.all().delete()
        generation.reference_links.all().delete()
        generation.tags.clear()
        generation.favourited_by.clear()
    return done


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


def remove_files(names):
    """Best effort: a file that cannot be removed is logged, and the others still go."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete %s from storage", name)
