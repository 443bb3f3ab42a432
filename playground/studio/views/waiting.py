"""Cancelling a generation still waiting in the team's line (see generations/cancelling.py)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from playground.generations import cancelling
from playground.generations.queries import team_generation
from playground.teams.access import fragment_login_required, next_url, require_membership


@fragment_login_required
@require_POST
def cancel(request, public_id):
    """Cancel it (its maker, owners and admins), then back to the page the button was on."""
    membership = require_membership(request)
    generation = team_generation(membership.team, public_id)
    prompt = Truncator(generation.prompt).chars(60)
    try:
        cancelling.cancel_waiting(membership, generation)
    except cancelling.AlreadySent:
        messages.warning(request, _("“%(prompt)s” had already been sent, so it goes on.") % {"prompt": prompt})
    else:
        messages.success(request, _("Cancelled “%(prompt)s”: nothing was sent or charged.") % {"prompt": prompt})
    return redirect(next_url(request, reverse("studio:generation-detail", args=[generation.public_id])))
