"""Images, as the app takes them in: uploads (references, masks) and the service's results.

The one place that opens image bytes. Every image goes through the same steps and limits:
the header names a still JPEG, PNG or WEBP of at most MAX_PIXELS (the content decides the
format, never a file's name), Pillow verifies its structure, then `decode` reads every
pixel, opened only as an allowed format so no other decoder reads the bytes. What is kept
is a clean copy (see cleaning.py), and a thumbnail of at most 512 px.

Refusals are ValidationErrors in words for uploads, NotAnImage for results.
"""

import hashlib
import io
import tempfile
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from playground.evolink.contract import MAX_MASK_BYTES, MAX_REFERENCE_BYTES

from . import cleaning, mask_reading

# Larger images gain nothing (results are at most 1536 px) and cost memory to decode.
MAX_PIXELS = 6000 * 6000
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
PNG_ONLY = {"PNG": FORMATS["PNG"]}
THUMBNAIL_BOX = (512, 512)
MAX_NAME = 120  # characters of a file's name kept and shown


class NotAnImage(Exception):
    """A result that is not an image the app keeps."""


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
    # A mask's: how its area to change was read (see mask_reading); the file is the mask as sent.
    mask_reading: str = ""

    @property
    def size(self):
        return (self.width, self.height)


def refuse(message, **values):
    raise ValidationError(message, params=values)


# -- the decoder ----------------------------------------------------------------------------


def decode(fileobj, formats=FORMATS):
    """Every pixel of the image in fileobj, decoded (a truncated file fails here), opened
    only as one of `formats`. Pillow's own errors pass through."""
    fileobj.seek(0)
    image = Image.open(fileobj, formats=list(formats))
    image.load()
    return image


def open_verified(fileobj, name, formats, *, result=False):
    """The image's header, once its structure is verified; refuses what is not a still image.

    An upload's header is read by whichever reader knows it, so the refusal names its
    kind ("is a TIFF file"); only `decode` reads its pixels. A result is opened only as
    one of `formats`, and an animated one is kept as its first frame, as it always was.
    """
    try:
        fileobj.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(fileobj, formats=list(formats) if result else None)
            check_kind(image, name, formats, still=not result)
            image.verify()
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        refuse(_("“%(name)s” has too many pixels: at most %(limit)s megapixels."), name=name, limit=MAX_PIXELS // 10**6)
    except Exception:  # Pillow raises many kinds of error for files it cannot read
        refuse(_("“%(name)s” is not a %(allowed)s image, or it is damaged."), name=name, allowed=allowed_names(formats))
    return image


def check_kind(image, name, formats, still=True):
    if image.format == "MPO" or (still and getattr(image, "n_frames", 1) > 1):
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


def decoded(fileobj, name, formats):
    """`decode`, with a damaged or incomplete file refused in words."""
    try:
        return decode(fileobj, formats)
    except Exception:
        refuse(_("“%(name)s” is damaged or incomplete and cannot be read."), name=name)


# -- uploads --------------------------------------------------------------------------------


def check_image(upload, *, max_bytes=MAX_REFERENCE_BYTES, formats=FORMATS, clean=True):
    """Open, verify and decode an upload and make its clean copy; a CheckedImage, or a
    ValidationError in words. `clean=False` is for the app's own stored files, which were
    cleaned when stored."""
    name = display_name(upload)
    if not upload.size:
        refuse(_("“%(name)s” is empty."), name=name)
    if upload.size > max_bytes:
        refuse(
            _("“%(name)s” is larger than %(limit)s MB."), name=name, limit=max_bytes // (1024 * 1024)
        )
    header = open_verified(upload, name, formats)
    copy, image = clean_copy(upload, name, formats) if clean else (upload, decoded(upload, name, formats))
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


def clean_copy(upload, name, formats):
    """The upload written again without its metadata, to a temporary file; and the clean image."""
    image = decoded(upload, name, formats)
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


def check_mask(upload, size):
    """A mask the contract accepts for a reference of `size`: PNG, at most 4 MB, the same
    pixel size, marking an area to change by transparency or by white (see mask_reading).

    The CheckedImage is of the mask as it is stored and sent: the area transparent and
    white, the rest opaque black; its sha256 is of those bytes, so one area is one mask.
    """
    checked = check_image(upload, max_bytes=MAX_MASK_BYTES, formats=PNG_ONLY)
    if checked.size != tuple(size):
        refuse(
            _("The mask is %(width)s × %(height)s pixels; it must be the size of the reference image, %(expected)s."),
            width=checked.width,
            height=checked.height,
            expected="%s × %s" % tuple(size),
        )
    image = decoded(checked.file, checked.name, PNG_ONLY)
    area, reading = mask_reading.change_area(image)
    if reading == mask_reading.BY_WHITE and not mask_reading.is_grey(image):
        refuse(
            _(
                "The mask has no transparent pixels and is in colour: make the area to change "
                "transparent, or white with the rest black."
            )
        )
    if not area.getbbox():
        if reading == mask_reading.BY_ALPHA:
            refuse(_("The mask has no transparent pixels: paint the area to change, or make it transparent in the file."))
        refuse(
            _(
                "The mask has no transparent pixels and no white ones: paint the area to change, "
                "or make it transparent or white in the file."
            )
        )
    return mask_as_sent(checked, mask_reading.as_sent(area), reading)


def mask_as_sent(checked, mask, reading):
    """`checked` with the normalised mask in place of the upload's clean copy."""
    copy = File(tempfile.TemporaryFile(), name="mask.png")
    mask.save(copy.file, "PNG")
    copy.size = copy.file.tell()
    return CheckedImage(
        file=copy,
        name=checked.name,
        format="PNG",
        width=mask.width,
        height=mask.height,
        bytes=copy.size,
        sha256=file_sha256(copy),
        thumbnail=make_thumbnail(mask),
        mask_reading=reading,
    )


# -- results --------------------------------------------------------------------------------


def clean_result(data):
    """A result's bytes checked and decoded as an upload's are, then written again without
    the service's metadata: (clean bytes, clean image, format). NotAnImage otherwise.
    An animated result is kept as its first frame."""
    source = io.BytesIO(data)
    try:
        open_verified(source, "result", FORMATS, result=True)
        image = decoded(source, "result", FORMATS)
        source_format = image.format
        lossless = source_format == "WEBP" and cleaning.is_lossless_webp(source)
        out = io.BytesIO()
        clean = cleaning.write_clean_copy(image, out, lossless_webp=lossless)
    except Exception as exc:  # a refusal in words, or a file Pillow cannot write again
        raise NotAnImage(str(exc)) from None
    return out.getvalue(), clean, source_format


# -- kept copies ----------------------------------------------------------------------------


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
