"""The prompt library page, saving a prompt (from the composer or the page), editing,
deleting, and the picker that puts a saved prompt into the composer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.teams.access import fragment_login_required, require_generating_membership, require_membership

from . import prompts
from .forms import LibrarySearchForm, SavedPromptForm
from .models import SavedPrompt

PAGE = "library/library.html"
PICKER_SIZE = 30


def visible_or_404(membership, pk):
    try:
        return prompts.get_visible(membership, pk)
    except (SavedPrompt.DoesNotExist, ValueError, OverflowError):
        raise Http404 from None


def changeable_or_404(membership, pk):
    prompt = visible_or_404(membership, pk)
    if not prompts.may_change(membership, prompt):
        raise PermissionDenied
    return prompt


@login_required
@require_GET
def library(request):
    membership = require_membership(request)
    search = LibrarySearchForm(request.GET)
    found = search.results(prompts.visible(membership))
    context = {
        "search": search,
        "saved_prompts": [(prompt, prompts.may_change(membership, prompt)) for prompt in found[:200]],
        "tags": prompts.team_tags(membership),
        "may_save": prompts.may_save(membership),
        "searched": bool(request.GET.get("q") or request.GET.get("tag")),
    }
    return TemplateResponse(request, PAGE + ("#results" if request.htmx else ""), context)


@fragment_login_required
@require_GET
def picker(request):
    """The Library dialog of the composer; as the search changes, only its results."""
    membership = require_membership(request)
    search = LibrarySearchForm(request.GET)
    context = {"search": search, "saved_prompts": search.results(prompts.visible(membership))[:PICKER_SIZE]}
    template = "library/picker.html" + ("#picker-results" if request.GET.get("results") else "")
    return TemplateResponse(request, template, context)


@fragment_login_required
@require_http_methods(["GET", "POST"])
def save(request):
    """Save a prompt. The composer asks for the dialog (htmx), whose script puts the composer's
    prompt in it; from the dialog the form comes back, saying what happened. The page's own
    form goes on to the library."""
    membership = require_generating_membership(request)
    form = SavedPromptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        saved = prompts.save(membership, **form.cleaned_data)
        if request.htmx:
            return TemplateResponse(request, "library/save_dialog.html#saved", {"saved": saved})
        messages.success(request, _("Saved “%(title)s” in the library.") % {"title": saved.title})
        return redirect("library:library")
    status = 422 if form.errors else 200
    if request.htmx:  # the dialog, or (after a refused save) its form with the errors
        template = "library/save_dialog.html" + ("#save-form" if request.method == "POST" else "")
        return TemplateResponse(request, template, {"form": form}, status=status)
    return TemplateResponse(request, "library/edit.html", {"form": form, "saved_prompt": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    membership = require_membership(request)
    prompt = changeable_or_404(membership, pk)
    form = SavedPromptForm.for_prompt(prompt, membership, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        prompts.update(prompt, **form.cleaned_data)
        messages.success(request, _("Saved “%(title)s”.") % {"title": prompt.title})
        return redirect("library:library")
    status = 422 if form.errors else 200
    return TemplateResponse(request, "library/edit.html", {"form": form, "saved_prompt": prompt}, status=status)


@login_required
@require_POST
def delete(request, pk):
    membership = require_membership(request)
    prompt = changeable_or_404(membership, pk)
    prompt.delete()
    messages.success(request, _("Deleted “%(title)s” from the library.") % {"title": prompt.title})
    return redirect("library:library")


@fragment_login_required
@require_POST
def use(request, pk):
    """The prompt goes into the composer: from the picker the page's script has put it there
    already (204); from the library page the playground opens with it."""
    membership = require_generating_membership(request)
    prompt = visible_or_404(membership, pk)
    prompts.mark_used(prompt)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(f"{reverse('studio:playground')}?saved={prompt.pk}")
