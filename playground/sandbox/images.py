"""Result images rendered with Pillow: fast, deterministic, visibly different per index."""

import functools
import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont, ImageOps, PngImagePlugin

from playground.evolink.contract import PIXELS


@functools.cache
def font(size):
    return ImageFont.load_default(size=size)


def palette(prompt, index):
    digest = hashlib.sha256(f"{prompt}\n{index}".encode()).digest()
    colours = [tuple(digest[i : i + 3]) for i in (0, 3, 6)]
    return colours, digest[9] * 360 // 256, digest[10] / 255, digest[11] / 255


def gradient(size, prompt, index):
    """Two colours along a seeded angle, plus a seeded glow of a third."""
    width, height = size
    (first, second, third), angle, glow_x, glow_y = palette(prompt, index)
    ramp = Image.linear_gradient("L").resize((512, 512)).rotate(angle, Image.BILINEAR)
    # Keep the middle square, which the rotation never leaves empty.
    ramp = ramp.crop((75, 75, 437, 437)).resize(size, Image.BILINEAR)
    image = Image.composite(Image.new("RGB", size, second), Image.new("RGB", size, first), ramp)

    side = min(size)
    # radial_gradient reaches 181 at the edge midpoints: fade to 0 by then, so no square shows.
    glow = Image.radial_gradient("L").point(lambda value: max(0, 181 - value) * 180 // 181)
    glow = glow.resize((side, side), Image.BILINEAR)
    glow_mask = Image.new("L", size, 0)
    centre = (int(glow_x * (width - side / 2)), int(glow_y * (height - side / 2)))
    glow_mask.paste(glow, (centre[0] - side // 2, centre[1] - side // 2))
    return Image.composite(Image.new("RGB", size, third), image, glow_mask)


def cover(image, size, resample=Image.BICUBIC):
    """Scale and centre-crop to fill size; an image already that size is left as it is."""
    if image.size == size:
        return image
    return ImageOps.fit(image, size, resample)


def draw_caption(image, prompt, index):
    width, height = image.size
    draw = ImageDraw.Draw(image, "RGBA")
    label = font(max(width, height) // 8)
    draw.text(
        (48, 32),
        str(index + 1),
        font=label,
        fill=(255, 255, 255, 235),
        stroke_width=4,
        stroke_fill=(0, 0, 0, 160),
    )
    lines = textwrap.wrap(prompt, width=width // 24, max_lines=8, placeholder=" …") or [" "]
    text_font = font(44)
    top = height - 64 - 56 * len(lines)
    draw.rectangle((32, top - 24, width - 32, height - 40), fill=(0, 0, 0, 120))
    for number, line in enumerate(lines):
        draw.text((56, top + 56 * number), line, font=text_font, fill=(255, 255, 255, 255))
    draw.text(
        (width - 330, height - 36), "EvoLink sandbox", font=font(28), fill=(255, 255, 255, 180)
    )


def change_area(mask, size, reading):
    """An L image, 255 where the mask says change: its fully transparent pixels ("alpha",
    the product page's reading) or its pure white ones, whatever their alpha ("white",
    the vendor's client reference)."""
    mask = cover(mask.convert("RGBA"), size, Image.NEAREST)
    if reading == "white":
        return mask.convert("RGB").convert("L").point(lambda value: 255 if value == 255 else 0)
    return mask.getchannel("A").point(lambda value: 255 if value == 0 else 0)


def render(prompt, index, size_name, references=(), mask=None, mask_reading="alpha"):
    """PNG bytes of one result.

    1. A seeded gradient, or the first reference tinted by it (image-to-image).
    2. Further references as thumbnails, then the index and prompt drawn on top.
    3. With a mask, only the pixels it marks for change take the new picture (see
       change_area); every other pixel stays the reference's own.
    """
    size = PIXELS[size_name]
    picture = gradient(size, prompt, index)
    base = cover(references[0].convert("RGB"), size) if references else None
    if base is not None:
        picture = Image.blend(base, picture, 0.35)
    for number, reference in enumerate(references[1:]):
        thumb = cover(reference.convert("RGB"), (size[0] // 5, size[0] // 5))
        picture.paste(thumb, (32 + number * (thumb.width + 16), size[1] // 3))
    draw_caption(picture, prompt, index)
    if base is not None and mask is not None:
        picture = Image.composite(picture, base, change_area(mask, size, mask_reading))
    out = io.BytesIO()
    # Tagged as real services tag their files: metadata the playground must not keep.
    tags = PngImagePlugin.PngInfo()
    tags.add_text("Software", "EvoLink sandbox")
    tags.add_text("Comment", prompt)
    picture.save(out, "PNG", compress_level=1, pnginfo=tags)
    return out.getvalue()
