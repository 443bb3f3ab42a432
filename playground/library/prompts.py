"""The team's prompt library: who sees, saves, changes and uses which saved prompt.

A member sees their own private prompts and the team's shared ones. Owners, admins and
members save; viewers only read the shared ones. A prompt is changed or deleted by its
author, and a shared one also by the team's owners and admins. Another team's prompt,
or someone else's private one, does not exist for the asker (a page answers 404).
"""

from django.db.models import Q
from django.utils import timezone

from playground.batches.templates import Template

from .models import SavedPrompt

MAX_TAGS = 8
TAG_MAX_LENGTH = 30


def variables(text):
    """The names of a template's {{variables}}, each once, in the order they first appear (as a
    batch reads them: playground/batches/templates.py)."""
    return Template(text).variables


def tags_stored(tags):
    """A list of clean tags as the model keeps them: between commas, so one is found exactly."""
    return f",{','.join(tags)}," if tags else ""


def visible(membership):
    """The saved prompts `membership` may see, newest first."""
    mine_or_shared = Q(shared=True) | Q(saved_by=membership.user)
    return SavedPrompt.objects.filter(mine_or_shared, team=membership.team).select_related("saved_by")


def get_visible(membership, pk):
    """One prompt the member may see; SavedPrompt.DoesNotExist for anything else."""
    return visible(membership).get(pk=pk)


def find_visible(membership, pk):
    """One prompt the member may see, or None: another's private one, another team's, one
    deleted, or a `pk` that is no id at all (an old or edited link)."""
    try:
        return get_visible(membership, pk)
    except (SavedPrompt.DoesNotExist, ValueError, OverflowError):
        return None


def search(prompts, query="", tag=""):
    """Prompts whose title, text or tags contain every word of `query`, and tagged `tag` if given."""
    for word in query.split():
        prompts = prompts.filter(Q(title__icontains=word) | Q(text__icontains=word) | Q(tags__icontains=word))
    if tag:
        prompts = prompts.tagged(tag)
    return prompts


def team_tags(membership):
    """Every tag on the prompts the member sees, sorted, for the tag filter."""
    found = set()
    for tags in visible(membership).exclude(tags="").values_list("tags", flat=True):
        found.update(tag for tag in tags.split(",") if tag)
    return sorted(found)


def may_save(membership):
    return membership.can_generate


def may_change(membership, prompt):
    """The author changes their own; owners and admins change the team's shared ones too."""
    if prompt.team_id != membership.team_id:
        return False
    mine = prompt.saved_by_id == membership.user_id
    return (mine and membership.can_generate) or (prompt.shared and membership.can_manage)


def may_change_who_sees(membership, prompt):
    """Only the author makes a prompt private or shares it: an owner tidying the team's
    library must not hide a teammate's prompt from everyone but that teammate."""
    return prompt.saved_by_id == membership.user_id


def save(membership, *, title, text, tags, shared):
    return SavedPrompt.objects.create(
        team=membership.team, saved_by=membership.user, title=title, text=text, tags=tags_stored(tags), shared=shared
    )


def update(prompt, *, title, text, tags, shared=None):
    """Change a prompt; `shared` None keeps who sees it as it is."""
    prompt.title, prompt.text, prompt.tags = title, text, tags_stored(tags)
    if shared is not None:
        prompt.shared = shared
    prompt.save(update_fields=["title", "text", "tags", "shared"])
    return prompt


def mark_used(prompt):
    """Remember when the prompt was last put into a composer (without touching anything else)."""
    prompt.last_used_at = timezone.now()
    SavedPrompt.objects.filter(pk=prompt.pk).update(last_used_at=prompt.last_used_at)
