"""Deleting an uploaded file, as the vendor's `DELETE /api/v1/files/{id}` does."""

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from playground.generations.models import Generation, GenerationReference, Reference


@transaction.atomic
def delete(team, public_id):
    """Forget the team's reference image: False when the team has none with this id.

    An unused one is removed with its files. One that a generation used stays in the team's
    storage, since the History shows it with that generation, but its file link stops working.
    """
    reference = Reference.objects.select_for_update().filter(team=team, public_id=public_id).first()
    if reference is None:
        return False
    used = GenerationReference.objects.filter(reference=reference).exists()
    used = used or Generation.objects.filter(mask=reference).exists()
    if used:
        reference.link_deleted_at = timezone.now()
        reference.save(update_fields=["link_deleted_at"])
        return True
    names = [reference.file.name, reference.thumbnail.name]
    reference.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
    return True
