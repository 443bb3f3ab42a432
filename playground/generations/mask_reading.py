"""How a mask is read, and the mask the app sends: the same area under both readings.

The vendor's product page speaks of a "transparency mask" (transparent = change); its own
client reference says "white areas = edit, black areas = keep" (see evolink/CONTRACT.md).
Uploads come in either convention:

- a PNG with any transparency is read by its alpha: fully transparent pixels mark the
  area to change (as the strict-mask compositing always read them);
- a mask with no transparency (black and white or greyscale, in any mode) is read white
  = change: pixels nearer white than black mark the area.

Whatever was uploaded, the mask stored and sent marks that area transparent and white
(MASK_CHANGE_PIXEL) and the rest opaque black (MASK_KEEP_PIXEL), so it means the same to
a service that reads either way. Read again, a mask made so gives the same area.
Uploads are read from their clean copy (see cleaning.py): upright, 8 bits a channel.
"""

from PIL import Image, ImageChops

from playground.evolink.contract import MASK_CHANGE_PIXEL, MASK_KEEP_PIXEL, MASK_READINGS

BY_ALPHA, BY_WHITE = MASK_READINGS
# How far apart a pixel's red, green and blue may be for a mask still to count as grey.
GREY_TOLERANCE = 16


def reading(image):
    """BY_ALPHA when the image has any transparency, else BY_WHITE."""
    if image.has_transparency_data and alpha(image).getextrema()[0] < 255:
        return BY_ALPHA
    return BY_WHITE


def change_area(image):
    """(an L image, 255 where the mask marks the area to change and 0 elsewhere; its reading)."""
    how = reading(image)
    if how == BY_ALPHA:
        return alpha(image).point(lambda value: 255 if value == 0 else 0), how
    return image.convert("L").point(lambda value: 255 if value >= 128 else 0), how


def is_grey(image):
    """True when the image has no colour to speak of: what a mask read white = change must be."""
    if image.mode in ("1", "L", "LA"):
        return True
    red, green, blue = image.convert("RGB").split()
    spread = max(ImageChops.difference(a, b).getextrema()[1] for a, b in ((red, green), (green, blue), (red, blue)))
    return spread <= GREY_TOLERANCE


def as_sent(area):
    """The mask to store and send for an area (L, 255 = change): transparent white there,
    opaque black elsewhere."""
    mask = Image.new("RGBA", area.size, MASK_KEEP_PIXEL)
    mask.paste(Image.new("RGBA", area.size, MASK_CHANGE_PIXEL), mask=area)
    return mask


def alpha(image):
    return image.convert("RGBA").getchannel("A")

