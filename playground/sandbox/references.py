"""Reference images and masks, fetched once when a task is created.

The copies are kept beside the task, so its results render the same later even
if the original URL or hosted file is gone. A bad reference does not reject the
request: like upstream, the task is accepted and then fails with a task code.
"""

import io

from PIL import Image, UnidentifiedImageError

from playground.evolink.contract import MAX_MASK_BYTES

from . import fetch, files, store

REFERENCE_FORMATS = ("JPEG", "PNG", "WEBP")


class Unusable(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def read_reference(url, max_bytes):
    try:
        return files.read_url(url, max_bytes)
    except fetch.TooLarge:
        raise Unusable("invalid_parameters") from None
    except (fetch.FetchError, OSError):
        raise Unusable("resource_not_found") from None


def open_image(data):
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Unusable("image_processing_error") from None
    if image.format not in REFERENCE_FORMATS:
        raise Unusable("image_processing_error")
    return image


def path(task_id, name):
    return store.folder("references") / f"{task_id}-{name}"


def collect(task_id, image_urls, mask_url):
    """Fetch and keep the references; the failure code the task will end with, or None."""
    try:
        images = []
        for number, url in enumerate(image_urls):
            data = read_reference(url, files.MAX_BYTES)
            images.append(open_image(data))
            store.write_bytes(path(task_id, number), data)
        if mask_url and images:
            data = read_reference(mask_url, MAX_MASK_BYTES)
            check_mask(open_image(data), images[0])
            store.write_bytes(path(task_id, "mask"), data)
    except Unusable as exc:
        return exc.code
    return None


def check_mask(mask, image):
    if mask.format != "PNG" or image.format != "PNG":
        raise Unusable("invalid_parameters")
    if mask.size != image.size:
        raise Unusable("image_dimension_mismatch")


def load(task):
    """The task's reference images and mask (or None), as Pillow images."""
    images = [Image.open(path(task["id"], number)) for number in range(len(task["image_urls"]))]
    mask = Image.open(path(task["id"], "mask")) if task["mask_url"] and images else None
    return images, mask
