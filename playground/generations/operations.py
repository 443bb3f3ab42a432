"""What a member may do to a generation once it exists: tag it, delete it.

Each operation checks the member's right itself, so a page or a script calling it gets
the same rules. The operators' admin is no member of the team: it calls the unchecked
`delete_as_operator`, which still refuses a running generation and logs its audit event.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator

from playground.teams import audit

from .models import RUNNING, Generation, Tag

logger = logging.getLogger(__name__)


class StillRunning(Exception):
    """The generation is running (or started meanwhile), so it cannot be deleted yet."""


def may_tag(membership):
    """Who may generate may tag; viewers only look."""
    return membership.can_generate


def may_delete(membership, generation):
    """Owners and admins, and the person who made it while they may still generate (viewers only look)."""
    made_it = generation.created_by_id == membership.user_id
    return membership.can_manage or (made_it and membership.can_generate)


def require_same_team(membership, generation):
    if generation.team_id != membership.team_id:
        raise PermissionDenied


def set_tags(membership, generation, names):
    """Replace the generation's tags with `names` (as `TagsForm` cleans them), making the team's new ones."""
    require_same_team(membership, generation)
    if not may_tag(membership):
        raise PermissionDenied
    with transaction.atomic():
        chosen = [Tag.objects.get_or_create(team_id=generation.team_id, name=name)[0] for name in names]
        generation.tags.set(chosen)


def delete_generation(membership, generation):
    """Delete a finished generation, its images and their files; returns how many images went.

    1. Only the person who made it, or an owner or admin (else PermissionDenied); never
       while it runs, since the tracker would go on working on it (StillRunning).
    2. Its prompt, images, tags and reference links go; the references stay (other
       generations may use them), and so does the row with what it cost, so budgets
       and usage still count it. The audit log keeps the prompt's first 80 characters,
       so owners and admins can tell what went.
    3. The files go once that is committed, so a rollback leaves nothing missing.
    """
    require_same_team(membership, generation)
    if not may_delete(membership, generation):
        raise PermissionDenied
    return delete_as_operator(generation, membership.user)


def delete_as_operator(generation, by):
    """`delete_generation` without the member's right: for the operators' admin, who are no
    members. Still never while it runs (StillRunning), and logged as done by `by`."""
    images = list(generation.images.all())
    files = [name for image in images for name in (image.file.name, image.thumbnail.name, image.raw_file.name) if name]
    with transaction.atomic():
        # Checked in the UPDATE itself, so a generation that started running meanwhile stays.
        deleted = forget(generation)
        if deleted:
            audit.record(
                generation.team,
                by,
                audit.Action.GENERATION_DELETED,
                target=Truncator(generation.prompt).chars(80),
                images=len(images),
                public_id=str(generation.public_id),
            )
            transaction.on_commit(lambda: remove_files(files))
    if not deleted:
        raise StillRunning
    return len(images)


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


def remove_files(names):
    """Best effort: a file that cannot be removed is logged, and the others still go."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete %s from storage", name)
