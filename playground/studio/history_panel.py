"""The History panel beside the playground: the team's latest generations and their counts."""

import hashlib

from django.conf import settings

from playground.generations import queue
from playground.generations.models import Generation, Status


def history_rows(team):
    return Generation.objects.for_team(team)[: settings.HISTORY_PANEL_SIZE]


def history_version(team):
    """A fingerprint of what the History panel shows, from one small indexed query.

    Only visible fields count: a poll that changed nothing a person sees costs a 204.
    """
    shown = list(history_rows(team).values_list("pk", "status", "progress", "error_code"))
    if any(status == Status.WAITING for _pk, status, *_rest in shown):
        shown.append(sorted(queue.positions(team).items()))  # "N ahead" moves as others are let out
    return hashlib.blake2b(repr(list(shown)).encode(), digest_size=8).hexdigest()


def history_context(team, version=None):
    generations = list(history_rows(team).select_related("created_by", "token").prefetch_related("images"))
    ahead = queue.positions(team) if any(row.status == Status.WAITING for row in generations) else {}
    for generation in generations:
        generation.ahead = ahead.get(generation.pk)
    running = sum(1 for generation in generations if generation.is_running)
    completed = sum(1 for generation in generations if generation.status == Status.COMPLETED)
    return {
        "generations": generations,
        "running": running,
        "completed": completed,
        "failed": len(generations) - running - completed,
        "version": version or history_version(team),
        "panel_size": settings.HISTORY_PANEL_SIZE,
    }
