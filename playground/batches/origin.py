"""Which row of its batch a generation was made for."""

from .models import BatchRow


def row_of(generation):
    """The batch row `generation` was made for, or None when it is not a batch's.

    A row points to its latest attempt only; an earlier one (failed, then retried) is found
    by what every attempt of a row shares: its prompt, size and number of images.
    """
    if generation.batch_id is None:
        return None
    rows = BatchRow.objects.filter(batch_id=generation.batch_id).select_related("batch")
    same_request = rows.filter(
        generation__prompt=generation.prompt, generation__size=generation.size, generation__n=generation.n
    )
    return rows.filter(generation_id=generation.pk).first() or same_request.first()
