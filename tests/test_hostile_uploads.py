"""Hostile uploads: each file of the corpus is refused by the references field and by
generate, named safely, with nothing written; files fine to accept are stored without
their metadata or payload, the way up they are shown; bombs cost no memory."""

import hashlib
import io
import json
import os
import subprocess
import sys

import httpx
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageOps, ImageStat

from playground.generations import hosting
from playground.generations.images import NotAnImage, clean_result
from playground.generations.models import Generation, Reference, Status

from . import bad_files as corpus
from .bad_files import BAD_FILES, MARKER, file, saved
from .conftest import drive
from .images import image_bytes, open_image
from .test_bad_input import add_references, assert_refused, generate, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox"), pytest.mark.engines]  # stored files

bad_files = pytest.mark.parametrize("bad", list(BAD_FILES.values()), ids=list(BAD_FILES))
RAW_HTML_NAME = '<img src=x onerror="alert(1)">'


def assert_nothing_raw(response):
    assert RAW_HTML_NAME not in response.text
    assert MARKER not in response.text


@bad_files
def test_a_bad_upload_is_refused_by_the_references_field(owner_client, sandbox, bad):
    before = snapshot(sandbox)
    response = add_references(owner_client, file(bad.name, bad.make()))
    assert_refused(response, sandbox, before, "references", bad.named, bad.phrase)
    assert_nothing_raw(response)


@bad_files
def test_a_bad_upload_is_refused_by_generate(owner_client, sandbox, bad):
    before = snapshot(sandbox)
    response = generate(owner_client, images=[file(bad.name, bad.make())])
    assert_refused(response, sandbox, before, "references", bad.named, bad.phrase)
    assert_nothing_raw(response)


def test_the_corpus_holds_at_least_forty_bad_files():
    assert len(BAD_FILES) >= 40


# -- what is stored of a file that is accepted ------------------------------------------------


def read(name):
    with default_storage.open(name) as stored:
        return stored.read()


def stored_reference(client, name, data):
    response = add_references(client, file(name, data))
    assert response.status_code == 200
    assert 'id="references-error"' not in response.text
    reference = Reference.objects.get()
    return reference, read(reference.file.name)


def difference(first, second):
    """The mean difference of two images' pixels, 0 to 255, on the worst channel."""
    return max(ImageStat.Stat(ImageChops.difference(first.convert("RGB"), second.convert("RGB"))).mean)


def test_a_jpeg_is_stored_upright_without_exif_gps_xmp_or_comment(owner_client):
    original = corpus.jpeg_with_metadata(size=(300, 200))
    shown = ImageOps.exif_transpose(open_image(original))
    assert open_image(original).getexif().get_ifd(0x8825) and MARKER.encode() in original

    reference, data = stored_reference(owner_client, "holiday.jpg", original)
    stored = open_image(data)
    assert stored.format == "JPEG" and reference.content_type == "image/jpeg"
    assert (reference.width, reference.height) == stored.size == shown.size == (200, 300)
    assert not stored.getexif()
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(stored.info)
    for marker in (b"Exif", b"MarkerCam", b"xmpmeta", MARKER.encode()):
        assert marker not in data
    assert difference(stored, shown) < 2  # turned as shown, re-encoded with next to no loss
    assert reference.bytes == len(data)


def test_the_same_upload_twice_is_one_reference(owner_client, team):
    original = corpus.jpeg_with_metadata()
    stored_reference(owner_client, "holiday.jpg", original)
    add_references(owner_client, file("again.jpg", original))
    reference = Reference.objects.get(team=team)
    assert reference.sha256 == hashlib.sha256(original).hexdigest()


def test_a_png_is_stored_pixel_for_pixel_without_its_text_chunks(owner_client):
    original = corpus.png_with_text_chunks()
    assert len(open_image(original).text) == 4 and MARKER.encode() in original

    reference, data = stored_reference(owner_client, "notes.png", original)
    stored = open_image(data)
    assert stored.format == "PNG" and stored.text == {}
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"xmpmeta", MARKER.encode()):
        assert marker not in data
    assert ImageChops.difference(stored.convert("RGB"), open_image(original).convert("RGB")).getbbox() is None


PAYLOADS = {
    "png-with-zip-appended": ("photo.png", "PNG", corpus.zip_archive(), b"payload.html"),
    "jpeg-with-php-appended": ("photo.jpg", "JPEG", corpus.PHP, b"<?php"),
}


@pytest.mark.parametrize(("name", "fmt", "payload", "marker"), list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_an_image_with_a_file_appended_is_stored_without_it(owner_client, name, fmt, payload, marker):
    """A polyglot whose image part is whole is an image: its stored copy is the pixels alone."""
    original = image_bytes((64, 48), fmt) + payload
    reference, data = stored_reference(owner_client, name, original)
    assert marker in original and marker not in data
    assert open_image(data).format == fmt


def test_a_cmyk_jpeg_is_stored_as_an_rgb_jpeg(owner_client):
    reference, data = stored_reference(owner_client, "print.jpg", corpus.cmyk_jpeg())
    stored = open_image(data)
    assert stored.mode == "RGB" and reference.content_type == "image/jpeg"
    red, green, blue = stored.getpixel((10, 10))
    assert red > 200 and green < 60 and blue < 60


def test_a_16_bit_grey_png_is_stored_as_8_bit_grey_not_white(owner_client):
    reference, data = stored_reference(owner_client, "scan.png", corpus.grey_16_bit_png(level=32768))
    stored = open_image(data)
    assert stored.mode == "L" and reference.content_type == "image/png"
    assert 126 <= stored.getpixel((10, 10)) <= 129


def test_a_palette_png_keeps_its_transparency(owner_client):
    reference, data = stored_reference(owner_client, "sprite.png", corpus.palette_png_with_transparency())
    stored = open_image(data).convert("RGBA")
    assert stored.getpixel((5, 5))[3] == 0
    assert stored.getpixel((60, 5)) == (255, 0, 0, 255)


def test_a_colour_profile_is_applied_to_the_pixels_and_dropped(owner_client):
    # 64 of 255 in linear light is 137 in sRGB: the colour still looks as it did.
    original = saved(Image.new("RGB", (64, 48), (64, 64, 64)), "PNG", icc_profile=corpus.linear_rgb_profile())
    reference, data = stored_reference(owner_client, "linear.png", original)
    stored = open_image(data)
    assert "icc_profile" not in stored.info
    assert 132 <= stored.getpixel((5, 5))[0] <= 142


def test_an_srgb_profile_is_dropped_without_touching_the_pixels(owner_client):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = image_bytes((64, 48), "PNG", icc_profile=srgb)
    reference, data = stored_reference(owner_client, "srgb.png", original)
    stored = open_image(data)
    assert "icc_profile" not in stored.info
    assert ImageChops.difference(stored, open_image(original)).getbbox() is None


def test_a_lossless_webp_stays_lossless(owner_client):
    original = image_bytes((64, 48), "WEBP", lossless=True)
    reference, data = stored_reference(owner_client, "exact.webp", original)
    assert b"VP8L" in data
    assert ImageChops.difference(open_image(data), open_image(original)).getbbox() is None


def test_the_content_decides_the_format_not_the_name(owner_client, team):
    reference, data = stored_reference(owner_client, "../../etc/passwd.jpg", image_bytes((64, 48)))
    assert reference.content_type == "image/png" and reference.original_name == "passwd.jpg"
    assert reference.file.name.startswith(f"references/{team.pk}/") and reference.file.name.endswith(".png")


def test_a_file_named_with_html_is_shown_escaped(owner_client):
    response = add_references(owner_client, file(f"{RAW_HTML_NAME}.png", image_bytes((64, 48))))
    assert Reference.objects.get().original_name == f"{RAW_HTML_NAME}.png"
    for page in (response, owner_client.get(reverse("studio:playground"))):
        assert RAW_HTML_NAME not in page.text
    assert "&lt;img src=x onerror=" in response.text


# -- what reaches the service and the pages, and what is kept of results ----------------------------


@pytest.mark.django_db(transaction=True)  # its generation is sent when the transaction commits
def test_script_text_in_metadata_reaches_no_page_and_not_the_service(owner_client, team, sandbox, monkeypatch):
    # The files the service was sent are read below: keep them hosted after the generation ends.
    monkeypatch.setattr(hosting, "release_finished", lambda generation: None)
    add_references(owner_client, file("holiday.jpg", corpus.jpeg_with_metadata()))
    add_references(owner_client, file("notes.png", corpus.png_with_text_chunks()))
    ids = [str(reference.public_id) for reference in Reference.objects.filter(team=team).order_by("id")]
    owner_client.post(
        reverse("studio:generate"), {"prompt": "a lighthouse", "size": "1:1", "n": 1, "references": ids}
    )
    generation = drive(Generation.objects.get())
    assert generation.status == Status.COMPLETED

    pages = [
        reverse("studio:playground"),
        reverse("studio:generations"),
        reverse("studio:earlier-references"),
        reverse("studio:generation-detail", args=[generation.public_id]),
        reverse("studio:generation", args=[generation.public_id]),
    ]
    for page in pages:
        response = owner_client.get(page, headers={"HX-Request": "true"} if "earlier" in page else {})
        assert response.status_code == 200
        assert MARKER not in response.text
    hosted = [path for path in (sandbox.data_dir / "files").rglob("*") if path.is_file()]
    assert hosted and not any(MARKER.encode() in path.read_bytes() for path in hosted)


@pytest.mark.django_db(transaction=True)  # its generation is sent when the transaction commits
def test_a_result_is_stored_without_the_services_metadata(owner_client):
    owner_client.post(reverse("studio:generate"), {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1})
    generation = drive(Generation.objects.get())
    image = generation.images.get()
    served = httpx.get(generation.result_urls[0]).content
    assert open_image(served).text["Software"] == "EvoLink sandbox"  # what the service sent

    data = read(image.file.name)
    assert open_image(data).text == {} and b"tEXt" not in data and b"EvoLink sandbox" not in data
    assert ImageChops.difference(open_image(data), open_image(served)).getbbox() is None
    assert image.sha256 == hashlib.sha256(data).hexdigest() and image.bytes == len(data)


def mask_for(size, box):
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle(box, fill=(0, 0, 0, 0))
    return saved(mask, "PNG")


@pytest.mark.django_db(transaction=True)  # its generation is sent when the transaction commits
def test_a_mask_is_painted_over_a_turned_jpeg_as_it_is_shown(owner_client, team, sandbox, sandbox_mask_reading):
    """A 300 × 200 JPEG shown as 200 × 300 (EXIF orientation 6) takes a 200 × 300 mask, and
    the strict result keeps every pixel outside it, the right way up."""
    add_references(owner_client, file("portrait.jpg", corpus.jpeg_with_metadata(size=(300, 200))))
    reference = Reference.objects.get()
    assert (reference.width, reference.height) == (200, 300)
    data = {
        "prompt": "a lighthouse",
        "size": "2:3",
        "n": 1,
        "references": [str(reference.public_id)],
        "strict_mask": "on",
    }

    before = snapshot(sandbox)
    sideways = generate(owner_client, **data, mask=file("mask.png", mask_for((300, 200), (10, 10, 50, 50))))
    assert_refused(sideways, sandbox, before, "mask", "The mask is 300 × 200 pixels", "200 × 300")

    box = (20, 20, 120, 150)
    owner_client.post(
        reverse("studio:generate"), {**data, "mask": file("mask.png", mask_for((200, 300), box))}
    )
    generation = drive(Generation.objects.get())
    assert generation.status == Status.COMPLETED
    image = generation.images.get()
    result, raw = read(image.file.name), read(image.raw_file.name)
    assert b"tEXt" not in result and b"tEXt" not in raw
    upright = open_image(read(generation.ordered_references()[0].file.name)).convert("RGB")
    outside = Image.new("L", upright.size, 255)
    outside.paste(0, (box[0], box[1], box[2] + 1, box[3] + 1))
    changed = ImageChops.difference(open_image(result).convert("RGB"), upright).convert("L")
    assert ImageChops.multiply(changed, outside).getbbox() is None
    # Inside, the service's picture: it read the mask as meant, whichever way it reads masks.
    inner = (box[0] + 12, box[1] + 12, box[2] - 12, box[3] - 12)
    assert ImageStat.Stat(changed.crop(inner)).mean[0] > 10


# -- memory --------------------------------------------------------------------------------------


def test_a_result_bomb_is_refused_before_it_is_decoded():
    for bomb in (corpus.png_inflating_to_gigabytes(), corpus.png_9000_square_grey()):
        with pytest.raises(NotAnImage):
            clean_result(bomb)


def test_a_result_is_read_only_by_the_readers_of_the_kept_formats(monkeypatch):
    from PIL import TiffImagePlugin

    opened = []
    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "_open", lambda image: opened.append(image))

    with pytest.raises(NotAnImage):
        clean_result(image_bytes(fmt="TIFF"))

    assert opened == []


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_result_is_kept_as_its_first_frame(fmt):
    data, image, source_format = clean_result(corpus.animated(fmt))

    kept = Image.open(io.BytesIO(data))
    assert (source_format, kept.format, getattr(kept, "n_frames", 1)) == (fmt, fmt, 1)
    red, green, blue = kept.convert("RGB").getpixel((32, 32))
    assert red > 250 and green < 5 and blue < 5  # the first frame, red (lossy WEBP: nearly)


PEAK = """
import json, resource, sys
import django
django.setup()
from django.core.exceptions import ValidationError
from playground.generations.images import check_image
from tests.bad_files import BAD_FILES, file
peaks = {}
for key in sys.argv[1:]:
    upload = file(BAD_FILES[key].name, BAD_FILES[key].make())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        check_image(upload)
        refusal = None
    except ValidationError as error:
        refusal = " ".join(error.messages)
    peaks[key] = ((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, refusal)
print(json.dumps(peaks))
"""

# Peak memory, in MB, that refusing each may add: the bombs are refused from their header
# alone; the cut file is decoded at the largest size allowed (36 MP RGBA, 144 MB) before it fails.
MEMORY_BOUNDS = {
    "png-idat-inflating-to-2.5-gb": 16,
    "webp-canvas-16383x16383": 16,
    "jpeg-header-65000x65000": 16,
    "png-ztxt-inflating-to-64-mb": 16,
    "png-cut-at-6000x6000": 160,
}


def test_refusing_bombs_keeps_memory_bounded():
    """Peak RSS of a fresh process (Pillow's pixels are not Python objects that tracemalloc sees);
    the files run from the smallest bound, so each one's peak is its own."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "playground.settings",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    command = [sys.executable, "-c", PEAK, *MEMORY_BOUNDS]
    peaks = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)
    print("peak MB added:", peaks)
    for key, bound in MEMORY_BOUNDS.items():
        added, refusal = peaks[key]
        assert BAD_FILES[key].phrase in refusal
        assert added < bound, key
