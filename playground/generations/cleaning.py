"""Stored copies of images, without their metadata: the writing half of images.py, which
decodes and checks them first.

EXIF (camera, GPS position, an embedded thumbnail), XMP, PNG text chunks and JPEG
comments can carry private details or script text, and a file can carry a payload after
its image data: a stored copy is the pixels written out again, and nothing else.

What metadata changes about how the picture looks is applied to the pixels first, so the
copy looks like the upload did: the EXIF orientation turns them, and a colour profile
other than sRGB converts them to sRGB (the service, the mask painter in the browser and
the strict-mask compositing all take pixels as sRGB). The copy keeps its format and is
written without needless loss: PNG and lossless WEBP exactly, JPEG with the source's
own quantization tables, lossy WEBP at high quality.
"""

import io
import logging

from PIL import ImageCms, ImageOps, JpegImagePlugin

log = logging.getLogger(__name__)

# Modes every stored format writes as they are; others are converted (CMYK, 16-bit grey, …).
PLAIN_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
JPEG_QUALITY = 95  # when the source has no quantization tables to reuse
WEBP_QUALITY = 92


def write_clean_copy(image, fp, *, lossless_webp=False):
    """Write a loaded image's clean copy to fp in its own format; the clean image, for
    its size and thumbnail. `image` is changed in place, to spare a copy of its pixels."""
    source_format = image.format
    options = save_options(image, lossless_webp)
    clean = cleaned(image)
    clean.save(fp, source_format, **options)
    return clean


def cleaned(image):
    """The image upright, in sRGB, in a mode every format stores, with no metadata."""
    profile = image.info.get("icc_profile")
    ImageOps.exif_transpose(image, in_place=True)
    transparency = image.info.get("transparency")
    if profile and image.mode == "P":  # the palette's colours are in the profile's space
        image = plain(image)
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        image = in_srgb(image, profile)
    if image.mode not in PLAIN_MODES:
        image = plain(image)
    keeps_transparency = transparency is not None and image.mode in ("1", "L", "P", "RGB")
    image.info = {"transparency": transparency} if keeps_transparency else {}
    return image


def plain(image):
    if image.mode.startswith("I"):  # 16-bit grey: a plain convert would clip it to white
        return image.convert("I").point(lambda value: value / 257).convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def in_srgb(image, profile):
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if image.mode != "CMYK" and ImageCms.getProfileDescription(source).strip().lower().startswith("srgb"):
            return image  # already sRGB: converting would only round the pixels
        output = "RGB" if image.mode == "CMYK" else image.mode
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=output)
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        # A profile lcms cannot read is dropped and the pixels are taken as sRGB, as browsers do.
        log.info("colour profile ignored: %s", error)
        return image


def save_options(image, lossless_webp):
    if image.format == "JPEG" and image.mode in ("L", "RGB") and getattr(image, "quantization", None):
        # Re-encoding with the source's own tables loses next to nothing more.
        sampling = JpegImagePlugin.get_sampling(image)
        return {"qtables": image.quantization, "subsampling": sampling, "optimize": True}
    if image.format == "JPEG":
        return {"quality": JPEG_QUALITY, "optimize": True}
    if image.format == "WEBP":
        if lossless_webp:
            return {"lossless": True, "exact": True}
        return {"quality": WEBP_QUALITY, "alpha_quality": 100, "method": 4}
    return {}


def is_lossless_webp(fileobj):
    """Whether a WEBP file's picture is stored lossless (a VP8L chunk rather than VP8)."""
    fileobj.seek(12)  # past "RIFF", the size and "WEBP"
    while len(header := fileobj.read(8)) == 8:
        kind, size = header[:4], int.from_bytes(header[4:], "little")
        if kind in (b"VP8L", b"VP8 "):
            return kind == b"VP8L"
        fileobj.seek(size + size % 2, io.SEEK_CUR)
    return False

