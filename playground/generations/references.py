"""Reference images and masks: checked by their content, kept in the team's storage,
and hosted for the service through its file-hosting API (or, in the scale setup, by a link
the bucket signs).

What is stored is a clean copy (see cleaning.py): the pixels upright and in sRGB,
without EXIF, XMP, text chunks, comments or anything appended to the file.

A file is never read whole into memory: Pillow decodes it from the uploaded file
(which Django spools to disk past 2.5 MB) and writes the clean copy to a temporary
file, the hash is taken chunk by chunk, and storage and hosting stream it.
"""

import hashlib
import io
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from . import cleaning
from .bucket import in_bucket
from .models import Reference

MAX_REFERENCE_BYTES = 10 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
# Larger images gain nothing (results are at most 1536 px) and cost memory to decode.
MAX_PIXELS = 6000 * 6000
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
THUMBNAIL_BOX = (512, 512)
MAX_NAME = 120  # characters of a file's name kept and shown
# Hosted files live 72 hours; one with less than this left is uploaded again.
HOSTING_MARGIN = timedelta(hours=2)
HOSTING_LIFETIME = timedelta(hours=72)


@dataclass
class CheckedImage:
    """An upload that passed every check, with the clean copy of it that is stored."""

    file: object  # the clean copy (see cleaning.py), or the file itself when it is clean already
    name: str
    format: str
    width: int  # of the clean copy: upright, as the upload is displayed
    height: int
    bytes: int  # of the clean copy
    # Of the upload as sent: the same file twice is one reference, without cleaning it again.
    sha256: str
    thumbnail: bytes

    @property
    def size(self):
        return (self.width, self.height)


def refuse(message, **values):
    raise ValidationError(message, params=values)


def check_image(upload, *, max_bytes=MAX_REFERENCE_BYTES, formats=FORMATS, clean=True):
    """Open, verify and decode an upload and make its clean copy; a CheckedImage, or a
    ValidationError in words. The content decides the format, never the file's name.
    `clean=False` is for the app's own stored files, which were cleaned when stored."""
    name = display_name(upload)
    if not upload.size:
        refuse(_("“%(name)s” is empty."), name=name)
    if upload.size > max_bytes:
        refuse(
            _("“%(name)s” is larger than %(limit)s MB."), name=name, limit=max_bytes // (1024 * 1024)
        )
    header = open_verified(upload, name, formats)
    copy, image = clean_copy(upload, name, formats) if clean else (upload, decode(upload, name, formats))
    if copy.size > max_bytes:
        refuse(
            _("“%(name)s” is larger than %(limit)s MB once its metadata is removed: save it smaller."),
            name=name,
            limit=max_bytes // (1024 * 1024),
        )
    return CheckedImage(
        file=copy,
        name=name,
        format=header.format,
        width=image.width,
        height=image.height,
        bytes=copy.size,
        sha256=file_sha256(upload),
        thumbnail=make_thumbnail(image),
    )


def display_name(upload):
    """The upload's name as shown and kept: no folders, no control characters, not too long."""
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip() or "upload"
    if len(name) <= MAX_NAME:
        return name
    stem, dot, extension = name.rpartition(".")
    ending = dot + extension if stem and len(extension) <= 5 else ""
    return name[: MAX_NAME - len(ending) - 1] + "…" + ending


def open_verified(upload, name, formats):
    """The image's header, once its structure is verified; refuses what is not a still image."""
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(upload)
            check_kind(image, name, formats)
            image.verify()
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        refuse(_("“%(name)s” has too many pixels: at most %(limit)s megapixels."), name=name, limit=MAX_PIXELS // 10**6)
    except Exception:  # Pillow raises many kinds of error for files it cannot read
        refuse(_("“%(name)s” is not a %(allowed)s image, or it is damaged."), name=name, allowed=allowed_names(formats))
    return image


def check_kind(image, name, formats):
    if image.format == "MPO" or getattr(image, "n_frames", 1) > 1:
        refuse(_("“%(name)s” is animated or has several frames: use a still image."), name=name)
    if image.format not in formats:
        refuse(
            _("“%(name)s” is a %(kind)s file: use %(allowed)s."),
            name=name,
            kind=image.format,
            allowed=allowed_names(formats),
        )
    if image.width * image.height > MAX_PIXELS:
        refuse(
            _("“%(name)s” is %(width)s × %(height)s pixels: at most %(limit)s megapixels."),
            name=name,
            width=image.width,
            height=image.height,
            limit=MAX_PIXELS // 10**6,
        )


def allowed_names(formats):
    return _("JPG, PNG or WEBP") if len(formats) > 1 else "PNG"


def decode(upload, name, formats):
    """Every pixel, decoded (a truncated file fails here); opened again only as an allowed
    format, so no other decoder ever reads the bytes."""
    try:
        upload.seek(0)
        image = Image.open(upload, formats=list(formats))
        image.load()
        return image
    except Exception:
        refuse(_("“%(name)s” is damaged or incomplete and cannot be read."), name=name)


def clean_copy(upload, name, formats):
    """The upload written again without its metadata, to a temporary file; and the clean image."""
    image = decode(upload, name, formats)
    lossless = image.format == "WEBP" and cleaning.is_lossless_webp(upload)
    extension = FORMATS[image.format][0]
    copy = File(tempfile.TemporaryFile(), name=f"clean.{extension}")
    try:
        clean = cleaning.write_clean_copy(image, copy.file, lossless_webp=lossless)
    except Exception:  # a file Pillow decodes but cannot write again is not one to keep
        copy.close()
        refuse(_("“%(name)s” is damaged or incomplete and cannot be read."), name=name)
    copy.size = copy.file.tell()
    copy.seek(0)
    return copy, clean


def make_thumbnail(image):
    """A WEBP of at most 512 px, made without another full-size copy of the pixels."""
    small = ImageOps.contain(image, THUMBNAIL_BOX) if max(image.size) > max(THUMBNAIL_BOX) else image.copy()
    small = ImageOps.exif_transpose(small).convert("RGBA" if small.has_transparency_data else "RGB")
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()


def file_sha256(fileobj):
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def check_mask(upload, size):
    """A mask the contract accepts for a reference of `size`: PNG, at most 4 MB, the
    same pixel size, with transparent pixels marking the area to change."""
    checked = check_image(upload, max_bytes=MAX_MASK_BYTES, formats={"PNG": FORMATS["PNG"]})
    if checked.size != tuple(size):
        refuse(
            _("The mask is %(width)s × %(height)s pixels; it must be the size of the reference image, %(expected)s."),
            width=checked.width,
            height=checked.height,
            expected="%s × %s" % tuple(size),
        )
    upload.seek(0)
    with Image.open(upload) as image:
        transparent = image.has_transparency_data and image.convert("RGBA").getchannel("A").getextrema()[0] == 0
    if not transparent:
        refuse(_("The mask has no transparent pixels: paint the area to change, or make it transparent in the file."))
    return checked


# -- storing ----------------------------------------------------------------------


def store(team, user, checked, kind=Reference.Kind.IMAGE):
    """The team's Reference for these bytes: the existing one, or a newly stored one."""
    existing = Reference.objects.filter(team=team, kind=kind, sha256=checked.sha256).first()
    if existing:
        return existing
    extension, content_type = FORMATS[checked.format]
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
    return check_image(upload, max_bytes=max(len(data), 1), clean=False)


def from_result(team, user, image):
    """A result image, taken as a reference without uploading it again."""
    existing = Reference.objects.filter(team=team, kind=Reference.Kind.IMAGE, sha256=image.sha256).first()
    if existing:
        return existing
    with default_storage.open(image.file.name) as stored:
        checked = from_bytes(stored.read(), f"{image.download_stem}.{image.extension}")
    return store(team, user, checked)


def as_png(team, user, reference):
    """The reference as PNG, pixel for pixel: the contract wants a masked edit's image in PNG."""
    if reference.is_png:
        return reference
    with default_storage.open(reference.file.name) as stored, Image.open(stored) as image:
        out = io.BytesIO()
        # The stored copy is upright already (see cleaning.py): its pixels are the ones shown
        # when the mask was painted over it, so they are copied as they are.
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")  # CMYK, YCbCr
        image.save(out, "PNG")
    checked = from_bytes(out.getvalue(), reference.original_name.rsplit(".", 1)[0] + ".png")
    return store(team, user, checked)


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


# -- hosting ------------------------------------------------------------------------


def hosted_url(reference, client):
    """A URL the service can fetch the reference from.

    With S3_REFERENCE_URLS the bucket signs a new link for every task: signing costs
    nothing, and a link signed with short-lived credentials (an instance role) dies with
    them. Otherwise the file is uploaded to the service's file hosting, again only once
    the last upload is about to run out.
    """
    if settings.S3_REFERENCE_URLS and in_bucket():
        return default_storage.url(reference.file.name, expire=settings.S3_REFERENCE_URL_SECONDS)
    if reference.is_hosted(HOSTING_MARGIN):
        return reference.hosted_url
    name = f"reference-{reference.public_id}.{reference.extension}"
    with default_storage.open(reference.file.name) as stored:
        hosted = client.upload_file(stored, name, reference.content_type)
    until = parse_datetime(hosted.expires_at or "") or timezone.now() + HOSTING_LIFETIME
    Reference.objects.filter(pk=reference.pk).update(hosted_url=hosted.file_url, hosted_until=until)
    reference.hosted_url, reference.hosted_until = hosted.file_url, until
    return hosted.file_url


def stored_mask(team, public_id):
    """The team's mask with this id, or None."""
    return Reference.objects.filter(team=team, kind=Reference.Kind.MASK, public_id=public_id).first()
