"""The playground: the form, generating, the reference images field, and the request as code."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from playground.evolink.contract import MAX_REFERENCE_IMAGES
from playground.gateway.links import api_base_url
from playground.generations import credits, images, lifecycle, outages, references
from playground.generations.forms import (
    GenerationForm,
    ReferenceFieldForm,
)
from playground.generations.models import GeneratedImage, Generation, Reference
from playground.generations.queries import team_generation
from playground.library import prompts as library_prompts
from playground.studio import code, sizes
from playground.studio.history_panel import history_context
from playground.teams import roles
from playground.teams.access import (
    current_membership,
    fragment_login_required,
    require_generating_membership,
    require_membership,
)
from playground.teams.upstream import account_for

PAGE = "studio/playground.html"
EARLIER = 12  # images offered in "choose from earlier images"


def compose_context(form, chosen, membership):
    return {
        "form": form,
        "chosen": chosen,
        "size_choices": sizes.shape_choices(form["size"]),
        "size_form": sizes.size_form(form["size"].value()),
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
            chosen = [references.picked(membership.team, request.user, request.GET["reference"])]
        elif request.GET.get("saved"):  # "Use in the playground" from the library
            form = saved_prompt_form(request, membership, request.GET["saved"])
    except (Http404, Reference.DoesNotExist):  # an old link: the page still opens, and says so
        messages.info(request, _("That generation or image is no longer there."))
    context = {
        **compose_context(form, chosen, membership),
        "selected": selected,
        # "Edit a region" from another page: the image comes as the reference, its painter open.
        "open_painter": bool(request.GET.get("paint")) and len(chosen) == 1,
        **history_context(membership.team),
    }
    return TemplateResponse(request, PAGE, context)


def saved_prompt_form(request, membership, pk):
    """The form with a prompt of the library in it; an empty one, saying so, when it is gone."""
    saved = library_prompts.find_visible(membership, pk)
    if saved is None:
        messages.info(request, _("That saved prompt is no longer in the library."))
        return GenerationForm()
    return GenerationForm(initial={"prompt": saved.text})


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
    form = ReferenceFieldForm(request.POST, request.FILES, team=membership.team, user=request.user)
    try:
        valid = form.is_valid()
    except Reference.DoesNotExist:  # the image to add is not the team's
        raise Http404 from None
    chosen, error = (form.save(), None) if valid else (form.kept, form.errors_in_one())
    context = {
        **compose_context(GenerationForm(), chosen, membership),
        "reference_error": error,
        "open_painter": request.POST.get("paint") == "1" and len(chosen) == 1,
        # A batch's references have no mask (templates/studio/batches/new.html).
        "without_mask": request.POST.get("without_mask") == "1",
    }
    return TemplateResponse(request, "studio/references.html#field", context)


@fragment_login_required
@require_POST
def mask_preview(request):
    """The area an uploaded mask marks for change, over its reference, and which reading
    found it (see generations/mask_reading.py): shown before Generate. Nothing is stored;
    Generate sends the file again and it is read the same way."""
    membership = require_generating_membership(request)
    if opened_for_another_team(request, membership):
        return reload_for_current_team(request, membership)
    chosen = references.chosen(membership.team, request.POST.getlist("references"))
    upload = request.FILES.get("mask")
    context = {"reference": chosen[0] if len(chosen) == 1 else None, "mask_painted": request.POST.get("mask_painted") == "1"}
    if upload and context["reference"]:
        reference = context["reference"]
        try:
            checked = images.check_mask(upload, (reference.width, reference.height))
        except ValidationError as error:
            context["mask_error"] = error
        else:
            overlay = base64.b64encode(checked.thumbnail).decode("ascii")
            context.update(mask_overlay=f"data:image/webp;base64,{overlay}", mask_reading=checked.mask_reading)
    return TemplateResponse(request, "studio/references.html#mask-preview", context)


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
    """The API request the form would send, to the account the team uses, with the key left out."""
    membership = require_membership(request)
    chosen = references.chosen(membership.team, request.POST.getlist("references"))
    has_mask = bool(request.FILES.get("mask") or request.POST.get("stored_mask")) and len(chosen) == 1
    return TemplateResponse(request, "studio/code.html", code.snippets(
        request.POST, chosen, has_mask, account_for(membership.team, with_key=False),
        api_base_url(request) if roles.may_hold_tokens(membership) else None,
    ))
