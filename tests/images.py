"""Image files for tests, made with Pillow."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw


def image_bytes(size=(1024, 1024), fmt="PNG", colour=None, **save):
    """A picture with structure (not a flat colour), so edits and crops show."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 8, size[1] // 8, size[0] // 3, size[1] // 3), fill=colour or (30, 160, 90))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def upload(name="photo.png", data=None, content_type="image/png", **kwargs):
    return SimpleUploadedFile(name, data if data is not None else image_bytes(**kwargs), content_type=content_type)


def mask_bytes(size=(1024, 1024), box=(600, 600, 900, 900)):
    """An opaque PNG mask with a transparent box: the region to change."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle(box, fill=(0, 0, 0, 0))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def mask_upload(size=(1024, 1024), box=(600, 600, 900, 900), name="mask.png"):
    return SimpleUploadedFile(name, mask_bytes(size, box), content_type="image/png")


def open_image(data):
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
