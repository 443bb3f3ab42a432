"""Which generation was made from which: a result image taken as a reference (used as a
reference, edited in a region, varied) is stored as a Reference with the same bytes, so
the same sha256 ties the two together (see references.from_result); the PNG copy a masked edit
sends names the image it was made from in `copy_of_sha256`.

Only what the team can still see is linked: a deleted generation's images are gone, so
nothing links to or from them.
"""

from django.db.models import Q

from .models import GeneratedImage, Generation, Reference


def sources(generation):
    """The result images, of other generations of the team, this generation was made from."""
    hashes = [reference.copy_of_sha256 or reference.sha256 for reference in generation.ordered_references()]
    if not hashes:
        return []
    found = (
        GeneratedImage.objects.for_team(generation.team_id)
        .filter(sha256__in=hashes)
        .exclude(generation_id=generation.pk)
        .select_related("generation")
        .order_by("generation__created_at", "index")
    )
    return list({image.sha256: image for image in found}.values())  # one image per reference


def made_from(team, images, limit=24):
    """The team's generations made from any of these images, newest first."""
    hashes = {image.sha256 for image in images}
    if not hashes:
        return []
    made = Generation.objects.for_team(team).filter(
        Q(reference_links__reference__sha256__in=hashes) | Q(reference_links__reference__copy_of_sha256__in=hashes),
        reference_links__reference__team=team,
        reference_links__reference__kind=Reference.Kind.IMAGE,
    )
    own = {image.generation_id for image in images}
    return list(made.exclude(pk__in=own).distinct().prefetch_related("images")[:limit])
