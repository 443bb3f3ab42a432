"""Reference images and masks: checked by their content (images.py) and kept in the team's
storage; hosting.py puts them where the service can fetch them.

What is stored is a clean copy (see cleaning.py): the pixels upright and in sRGB,
without EXIF, XMP, text chunks, comments or anything appended to the file.

A file is never read whole into memory here: images.py checks and cleans it from the
uploaded file (which Django spools to disk past 2.5 MB) into a temporary file, and
storage and hosting stream that copy.
"""

import io
import uuid

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from . import images
from .models import GeneratedImage, Reference

# -- storing ----------------------------------------------------------------------


def store(team, user, checked, kind=Reference.Kind.IMAGE):
    """The team's Reference for these bytes: the existing one, or a newly stored one."""
    existing = Reference.objects.filter(team=team, kind=kind, sha256=checked.sha256).first()
    if existing:
        return existing
    extension, content_type = images.FORMATS[checked.format]
    base = f"references/{team.pk}/{uuid.uuid4().hex}"
    checked.file.seek(0)
    name = default_storage.save(f"{base}.{extension}", checked.file)
    thumbnail = default_storage.save(f"{base}-thumb.webp", ContentFile(checked.thumbnail))
    try:
        with transaction.atomic():
            return Reference.objects.create(
                team=team,
                uploaded_by=user,
                kind=kind,
                file=name,
                thumbnail=thumbnail,
                original_name=checked.name,
                content_type=content_type,
                width=checked.width,
                height=checked.height,
                bytes=checked.bytes,
                sha256=checked.sha256,
            )
    except IntegrityError:  # the same bytes stored by a teammate at the same moment
        default_storage.delete(name)
        default_storage.delete(thumbnail)
        return Reference.objects.get(team=team, kind=kind, sha256=checked.sha256)


def from_bytes(data, name):
    """A stored (so already clean) file's bytes, checked, for `store`."""
    upload = ContentFile(data, name=name)
    return images.check_image(upload, max_bytes=max(len(data), 1), clean=False)


def from_result(team, user, image):
    """A result image, taken as a reference without uploading it again."""
    existing = Reference.objects.filter(team=team, kind=Reference.Kind.IMAGE, sha256=image.sha256).first()
    if existing:
        return existing
    with default_storage.open(image.file.name) as stored:
        checked = from_bytes(stored.read(), f"{image.download_stem}.{image.extension}")
    return store(team, user, checked)


def picked(team, user, named):
    """An earlier reference or a result image of the team, named "reference:ID" or "image:ID",
    as a reference (a result image is taken with `from_result`). Reference.DoesNotExist when
    the team has no such image."""
    kind, _sep, public_id = named.partition(":")
    try:
        public_id = uuid.UUID(public_id)
    except ValueError:
        raise Reference.DoesNotExist from None
    if kind == "image":
        image = GeneratedImage.objects.for_team(team).select_related("generation").filter(public_id=public_id).first()
        if image is None:
            raise Reference.DoesNotExist
        return from_result(team, user, image)
    return Reference.objects.get(public_id=public_id, team=team, kind=Reference.Kind.IMAGE)


def as_png(team, user, reference):
    """The reference as PNG, pixel for pixel: the contract wants a masked edit's image in PNG."""
    if reference.is_png:
        return reference
    with default_storage.open(reference.file.name) as stored:
        image = images.decode(stored)
        out = io.BytesIO()
        # The stored copy is upright already (see cleaning.py): its pixels are the ones shown
        # when the mask was painted over it, so they are copied as they are.
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")  # CMYK, YCbCr
        image.save(out, "PNG")
    checked = from_bytes(out.getvalue(), reference.original_name.rsplit(".", 1)[0] + ".png")
    copy = store(team, user, checked)
    if not copy.copy_of_sha256:
        copy.copy_of_sha256 = reference.sha256
        copy.save(update_fields=["copy_of_sha256"])
    return copy


def mask_as_sent(team, user, mask):
    """A stored mask as masks are sent now (see mask_reading): itself when it is one
    already, else a copy made so (a mask stored before marked its area by transparency only)."""
    with default_storage.open(mask.file.name) as stored:
        checked = images.check_mask(File(stored, name=mask.original_name or "mask.png"), (mask.width, mask.height))
    return store(team, user, checked, Reference.Kind.MASK)


def chosen(team, ids):
    """The team's reference images named by ids, in the order given; unknown ids are dropped."""
    wanted = []
    for value in ids:
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    found = Reference.objects.filter(team=team, kind=Reference.Kind.IMAGE, public_id__in=wanted)
    by_id = {reference.public_id: reference for reference in found}
    return list(dict.fromkeys(by_id[value] for value in wanted if value in by_id))


def stored_mask(team, public_id):
    """The team's mask with this id, or None."""
    return Reference.objects.filter(team=team, kind=Reference.Kind.MASK, public_id=public_id).first()
