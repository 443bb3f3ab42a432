"""Strict mask: a result composited into its reference through the mask.

Image models repaint a little outside the mask. Compositing keeps every pixel outside
the area to change (as mask_reading reads it) exactly the reference's own; the edge is
softened inward over a few pixels, so the seam does not show and nothing outside moves.
"""

import io

from PIL import Image, ImageChops, ImageFilter

from . import images, mask_reading

SOFT_EDGE = 3  # pixels, the Gaussian radius of the inward feather


def edit_region(mask):
    """255 where the mask marks the area to change, 0 elsewhere.

    A stored mask is transparent and white there (see mask_reading); a mask stored before
    masks were normalised is transparent there. Both read the same way.
    """
    return mask_reading.change_area(mask)[0]


def centre_box(source_size, target_size):
    """The centred box of source with target's aspect: what a cover-crop keeps."""
    width, height = source_size
    target_width, target_height = target_size
    if width * target_height > height * target_width:
        kept = round(height * target_width / target_height)
        left = (width - kept) // 2
        return (left, 0, left + kept, height)
    kept = round(width * target_height / target_width)
    top = (height - kept) // 2
    return (0, top, width, top + kept)


def place(result, reference):
    """The result laid over the reference's frame, undoing the service's cover-crop."""
    box = centre_box(reference.size, result.size)
    placed = reference.copy()
    scaled = result.convert(reference.mode).resize((box[2] - box[0], box[3] - box[1]), Image.LANCZOS)
    placed.paste(scaled, box[:2])
    return placed


def composite(reference, result, mask):
    """The strict result: the reference, with only the mask's region taken from the result."""
    if reference.mode not in ("RGB", "RGBA"):
        reference = reference.convert("RGBA" if reference.has_transparency_data else "RGB")
    region = edit_region(mask)
    feathered = ImageChops.darker(region, region.filter(ImageFilter.GaussianBlur(SOFT_EDGE)))
    return Image.composite(place(result, reference), reference, feathered)


def composite_png(reference, mask, result_bytes):
    combined = composite(reference, images.decode(io.BytesIO(result_bytes)), mask)
    out = io.BytesIO()
    combined.save(out, "PNG", compress_level=6)
    return out.getvalue()
