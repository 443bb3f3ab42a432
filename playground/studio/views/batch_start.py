"""Starting a batch: the template, its values or file, the preview, and the start.

Nothing is stored before "Start batch": the preview reads the file from the request and
checks every row, and the start reads and checks it all again (see batches/runs.py). The
preview gives the Start button a token of what it showed (batches/preview_tokens.py): a
start without it, or after a change, is refused with a fresh preview (and a fresh token),
and a second start with the same token goes to the batch the first one started.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from playground.batches import preview_tokens, runs
from playground.batches.forms import BatchForm
from playground.evolink.contract import MAX_REFERENCE_IMAGES
from playground.generations import credits
from playground.library import prompts as library_prompts
from playground.studio import batch_table, sizes
from playground.teams.access import fragment_login_required, require_generating_membership

from .playground import opened_for_another_team, reload_for_current_team

PAGE = "studio/batches/new.html"
SHOWN_ROWS = 50  # the preview lists the first rows; the totals count them all
# The fields whose messages have a place beside them; "form" is the start's own (budgets).
FEEDBACK = ("name", "template", "values", "file", "skip_problems", "preview_token")


def saved_template(request, membership, pk):
    """The text of a saved prompt the member may see, now counted as used; "" (saying so) when it is gone."""
    saved = library_prompts.find_visible(membership, pk)
    if saved is None:
        messages.info(request, _("That saved prompt is no longer in the library."))
        return ""
    library_prompts.mark_used(saved)
    return saved.text


@login_required
@require_http_methods(["GET", "POST"])
def new_batch(request):
    """The page; its POST starts the batch, or shows why not (nothing stored)."""
    membership = require_generating_membership(request)
    if request.method == "GET":
        template = request.GET.get("template", "")
        if request.GET.get("saved"):  # "Start a batch" on a template of the library
            template = saved_template(request, membership, request.GET["saved"])
        form = BatchForm(team=membership.team, initial={"template": template})
        return page(request, membership, form)
    if opened_for_another_team(request, membership):
        return reload_for_current_team(request, membership)
    form = BatchForm(request.POST, request.FILES, team=membership.team)
    previewed = checked(form)
    if previewed is None or form.errors:
        return answer(request, membership, form, previewed, status=422)
    try:
        nonce = preview_tokens.redeem(form.cleaned_data["preview_token"], membership, form.fingerprint())
        batch = runs.start(
            membership,
            previewed,
            name=form.cleaned_data["name"],
            source_name=form.source_name,
            skip_problems=form.cleaned_data["skip_problems"],
            preview_nonce=nonce,
        )
    except preview_tokens.Refused as refused:
        form.add_error("preview_token", refused.message)
        budget_refusal(membership, previewed, form)
        return answer(request, membership, form, previewed, status=422)
    except runs.AlreadyStarted as started:
        messages.info(request, started.message)
        return go_to(request, started.batch)
    except runs.NotReady as refused:
        form.add_error(refusal_field(form, previewed), refused.message)
        return answer(request, membership, form, previewed, status=422)
    except credits.BudgetExceeded as refused:
        form.add_error(None, refused.message)
        return answer(request, membership, form, previewed, status=422)
    return go_to(request, batch)


def go_to(request, batch):
    where = reverse("studio:batch", args=[batch.public_id])
    return HttpResponseClientRedirect(where) if request.htmx else redirect(where)


@fragment_login_required
@require_POST
def preview(request):
    """The preview of the form as it stands; as the template or the values are typed, only
    the fields of its variables (`refresh=variables`) or their count (`refresh=count`)."""
    membership = require_generating_membership(request)
    if opened_for_another_team(request, membership):
        return reload_for_current_team(request, membership)
    form = BatchForm(request.POST, request.FILES, team=membership.team, for_preview=True)
    refresh = request.POST.get("refresh")
    if refresh in ("variables", "count") and request.htmx:
        template = "studio/batches/variables.html" if refresh == "variables" else f"{PAGE}#count"
        return TemplateResponse(request, template, {"form": form, "max_rows": settings.BATCH_MAX_ROWS})
    previewed = checked(form)
    if previewed is not None:
        budget_refusal(membership, previewed, form)
    return answer(request, membership, form, previewed)


def checked(form):
    """The batch the form describes, read and checked, its refusal as a whole put beside its
    field; None when the form itself says what to fix first (a missing name alone does not)."""
    if not form.is_valid() and set(form.errors) - {"name"}:
        return None
    previewed = form.preview()
    if previewed.problems:
        form.add_error(form.field_for(previewed), previewed.problems)
    return previewed


def refusal_field(form, previewed):
    if previewed.problems:
        return form.field_for(previewed)
    if not previewed.ready_rows:
        return "file" if form.from_file else "values"
    return "skip_problems"


def budget_refusal(membership, previewed, form):
    """The start's own budget check, said before it is pressed."""
    if previewed.problems:
        return
    try:
        credits.require_covered(membership.team, membership.user, previewed.credits, refusals=runs.REFUSALS)
    except credits.BudgetExceeded as refused:
        form.add_error(None, refused.message)


def answer(request, membership, form, previewed=None, status=200):
    """htmx: the preview region, with each field's message put beside its field (the file
    chosen stays chosen); otherwise the whole page."""
    if request.htmx:
        context = preview_context(membership, form, previewed)
        return TemplateResponse(request, "studio/batches/preview.html", {**context, "oob": True}, status=status)
    return page(request, membership, form, previewed, status)


def feedback(form):
    """Each field's messages by name; the form's own take in those of fields only tampering can make wrong."""
    found = {name: form.errors.get(name, []) for name in FEEDBACK}
    found["form"] = [
        message for name, messages in form.errors.items() if name not in FEEDBACK for message in messages
    ]
    return found


def page(request, membership, form, previewed=None, status=200):
    chosen = form.cleaned_data.get("references", []) if form.is_bound and hasattr(form, "cleaned_data") else []
    context = {
        **preview_context(membership, form, previewed),
        "size_choices": sizes.shape_choices(form["size"]),
        "chosen": chosen,
        "max_references": MAX_REFERENCE_IMAGES,
    }
    return TemplateResponse(request, PAGE, context, status=status)


def preview_context(membership, form, previewed):
    budgets = credits.budgets_left(membership.team, membership.user)
    amount = previewed.credits if previewed else 0
    return {
        "form": form,
        "feedback": feedback(form),
        "batch": previewed,
        "rows": batch_table.table(previewed, previewed.rows[:SHOWN_ROWS]) if previewed else [],
        "variables": previewed.template.variables if previewed else [],
        "shown_limit": SHOWN_ROWS,
        "more_rows": max(previewed.total - SHOWN_ROWS, 0) if previewed else 0,
        "max_rows": settings.BATCH_MAX_ROWS,
        "budgets": [
            {"whose": whose, **found, "after": found["remaining"] - amount} for whose, found in budgets.items()
        ],
        "preview_token": token_for(membership, form, previewed),
    }


def token_for(membership, form, previewed):
    """The Start button's token, once the preview shows a batch that may start (see preview_tokens.py)."""
    if previewed is None or previewed.problems or not previewed.ready_rows:
        return ""
    return preview_tokens.issue(membership, form.fingerprint())
