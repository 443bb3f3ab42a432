"""Cancelling a generation still waiting in the team's line (see queue.py).

Nothing of it was sent, so it ends `cancelled` through lifecycle.finish with no charge:
its reservation is released at once in the running totals. One that the line let out
meanwhile is on its way upstream and is not cancelled (`AlreadySent`).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import lifecycle, queue
from .models import Generation, Status
from .operations import may_delete, require_same_team


class AlreadySent(Exception):
    """The generation left the line before the cancel came: it goes on."""


def may_cancel(membership, generation):
    """Who may delete it may cancel it: its maker (while they may generate), owners and admins."""
    return may_delete(membership, generation)


def cancel_waiting(membership, generation):
    """Cancel a waiting generation of the member's team; PermissionDenied without the right,
    AlreadySent when it is no longer waiting."""
    require_same_team(membership, generation)
    if not may_cancel(membership, generation):
        raise PermissionDenied
    cancelled = cancel_in_line(generation.team, [generation.pk])
    if not cancelled:
        raise AlreadySent
    return cancelled[0]


def cancel_in_line(team, pks):
    """Cancel those of the team's generations `pks` still waiting; the ones cancelled."""
    cancelled = []
    with transaction.atomic():
        # Under the lock admission takes, so the line cannot let one out half-way.
        queue.locked(team)
        for pk in pks:
            claimed = Generation.objects.claim(pk, [Status.WAITING], settings.LEASE_SECONDS)
            if claimed is not None:
                # Not admitting now: it would let out the very rows this loop is about to cancel.
                lifecycle.finish(claimed, Status.CANCELLED, message=_("Cancelled before it was sent."), admit=False)
                cancelled.append(claimed)
    return cancelled
