"""Image-to-image and mask edits, from the form to stored images, over real HTTP to the sandbox."""

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageChops, ImageDraw, ImageStat

from playground.evolink.contract import MASK_CHANGE_PIXEL, MASK_KEEP_PIXEL
from playground.generations.masks import SOFT_EDGE
from playground.generations.models import Generation, Mode, Reference, Status

from .conftest import drive
from .images import image_bytes, mask_upload, open_image, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

BOX = (600, 600, 900, 900)


def outside_of(size, box):
    """255 outside the box a mask made transparent (ImageDraw's boxes include their far edge)."""
    outside = Image.new("L", size, 255)
    outside.paste(0, (box[0], box[1], box[2] + 1, box[3] + 1))
    return outside


def unchanged_outside(result, reference, box):
    difference = ImageChops.difference(result, reference).convert("L")
    return ImageChops.multiply(difference, outside_of(reference.size, box)).getbbox() is None


def stored(name):
    with default_storage.open(name) as file:
        return file.read()


def add_references(client, *files):
    return client.post(reverse("studio:references"), {"images": list(files)}, headers={"HX-Request": "true"})


def generate(client, **data):
    fields = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1, **data}
    return client.post(reverse("studio:generate"), fields)


def test_uploaded_references_are_stored_once_and_listed_in_the_field(owner_client, team):
    response = add_references(owner_client, upload("one.png"), upload("two.jpg", data=image_bytes(fmt="JPEG")))
    assert response.status_code == 200
    references = list(Reference.objects.filter(team=team).order_by("id"))
    assert [(r.original_name, r.content_type, r.width) for r in references] == [
        ("one.png", "image/png", 1024),
        ("two.jpg", "image/jpeg", 1024),
    ]
    body = response.text
    assert body.count('name="references"') == 2
    assert "one.png" in body and "two.jpg" in body
    # The same bytes again are the same reference, not a second copy.
    add_references(owner_client, upload("again.png"))
    assert Reference.objects.filter(team=team).count() == 2


def test_image_to_image_hosts_the_references_and_derives_from_them(owner_client, team):
    add_references(owner_client, upload("one.png", colour=(250, 20, 20)), upload("two.webp", fmt="WEBP"))
    ids = [str(r.public_id) for r in Reference.objects.filter(team=team).order_by("id")]
    response = generate(owner_client, references=ids)
    assert response.status_code == 302
    generation = drive(Generation.objects.get())

    assert generation.status == Status.COMPLETED
    assert generation.mode == Mode.IMAGE
    assert [str(r.public_id) for r in generation.ordered_references()] == ids
    assert len(generation.image_urls) == 2
    assert all(url.endswith((".png", ".webp")) for url in generation.image_urls)
    # The sandbox tints the first reference: the result is closer to it than to a fresh picture.
    result = open_image(stored(generation.images.get().file.name)).convert("RGB")
    reference = open_image(image_bytes(colour=(250, 20, 20))).convert("RGB")
    assert ImageChops.difference(result, reference).getbbox() is not None
    region = (200, 200, 300, 300)
    assert result.crop(region).getpixel((50, 50))[0] > 120  # the red square shows through


def test_a_reused_reference_is_not_uploaded_to_file_hosting_again(owner_client, team, sandbox):
    """Not while a generation that needs it runs; once none does, the hosted file is deleted
    (the hosting keeps only so many files an account: tests/test_hosting_quota.py)."""
    add_references(owner_client, upload("one.png"))
    reference = Reference.objects.get()
    generate(owner_client, references=[str(reference.public_id)])
    first = Generation.objects.get()
    assert first.status == Status.PENDING  # sent, and still running upstream
    generate(owner_client, references=[str(reference.public_id)], prompt="a second take")
    second = drive(Generation.objects.exclude(pk=first.pk).get())
    first = drive(first)
    assert first.image_urls == second.image_urls
    reference.refresh_from_db()
    assert reference.hosted_url == "" and reference.hosted_file_id == ""
    assert httpx.get(first.image_urls[0]).status_code == 404


def test_a_result_image_can_be_picked_as_a_reference(owner_client, team):
    generate(owner_client)
    image = drive(Generation.objects.get()).images.get()
    response = owner_client.post(
        reverse("studio:references"), {"add": f"image:{image.public_id}"}, headers={"HX-Request": "true"}
    )
    reference = Reference.objects.get()
    assert reference.sha256 == image.sha256
    assert str(reference.public_id) in response.text


@pytest.mark.parametrize("reference_format", ["PNG", "JPEG"])
def test_a_strict_mask_edit_keeps_every_pixel_outside_the_painted_area(
    owner_client, team, reference_format, sandbox_mask_reading
):
    add_references(owner_client, upload("photo", data=image_bytes(fmt=reference_format)))
    original = Reference.objects.get()
    response = generate(owner_client, references=[str(original.public_id)], mask=mask_upload(box=BOX), strict_mask="on")
    assert response.status_code == 302
    generation = drive(Generation.objects.get())

    assert generation.status == Status.COMPLETED
    assert generation.mode == Mode.EDIT
    sent = generation.ordered_references()[0]
    assert sent.is_png  # converted when the reference was not PNG, as the contract requires
    assert generation.mask_url and generation.image_urls[0].endswith(".png")
    reference = open_image(stored(original.file.name)).convert("RGB")
    image = generation.images.get()
    result = open_image(stored(image.file.name)).convert("RGB")
    assert result.size == reference.size
    assert unchanged_outside(result, reference, BOX)
    difference = ImageChops.difference(result, reference)
    inner = (BOX[0] + 4 * SOFT_EDGE, BOX[1] + 4 * SOFT_EDGE, BOX[2] - 4 * SOFT_EDGE, BOX[3] - 4 * SOFT_EDGE)
    assert difference.crop(inner).getbbox() is not None
    # The service's own image is kept and can be viewed.
    assert image.raw_file
    raw = owner_client.get(reverse("studio:image", args=[image.public_id, "raw"]))
    assert raw.status_code == 200
    assert Image.open(io.BytesIO(b"".join(raw.streaming_content))).size == (1024, 1024)


def test_without_strict_mask_the_services_image_is_stored_as_it_came(owner_client, team, sandbox_mask_reading):
    add_references(owner_client, upload("photo.png"))
    reference = Reference.objects.get()
    generate(owner_client, references=[str(reference.public_id)], mask=mask_upload(box=BOX))
    image = drive(Generation.objects.get()).images.get()
    assert not image.raw_file
    assert image.generation.strict_mask is False
    # The service read the mask as meant, whichever way it reads masks: it changed the box only.
    assert_service_changed_only(image, reference, BOX)


def assert_service_changed_only(image, reference, box):
    result = open_image(stored(image.file.name)).convert("RGB")
    original = open_image(stored(reference.file.name)).convert("RGB")
    assert unchanged_outside(result, original, box)
    inner = (box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2)
    assert min(ImageStat.Stat(ImageChops.difference(result, original).crop(inner)).mean) > 10


def test_a_strict_edit_of_a_reference_of_another_shape_maps_back_onto_it(owner_client, team, sandbox_mask_reading):
    size = (800, 600)
    add_references(owner_client, upload("wide.png", size=size))
    reference = Reference.objects.get()
    box = (300, 200, 500, 400)
    generate(
        owner_client,
        references=[str(reference.public_id)],
        mask=mask_upload(size=size, box=box),
        strict_mask="on",
    )
    image = drive(Generation.objects.get()).images.get()
    result = open_image(stored(image.file.name)).convert("RGB")
    original = open_image(stored(reference.file.name)).convert("RGB")
    assert result.size == size
    assert unchanged_outside(result, original, box)


# -- masks in either convention -------------------------------------------------------------------


def mask_in(convention, size=(1024, 1024), box=BOX):
    """PNG bytes of a mask marking `box` for change, in one of the conventions people upload."""
    if convention == "transparent":
        return image_bytes_of(mask_image("RGBA", (0, 0, 0, 255), (0, 0, 0, 0), size, box))
    if convention == "transparent-palette":
        mask = mask_image("P", 0, 1, size, box)
        mask.putpalette([20, 20, 20, 200, 200, 200])
        return image_bytes_of(mask, transparency=1)
    if convention == "soft-edged-transparent":  # a brush's edge: partly transparent pixels
        mask = mask_image("LA", (0, 255), (0, 0), size, box)
        ImageDraw.Draw(mask).rectangle((box[0] - 3, box[1] - 3, box[0] - 1, box[3]), fill=(0, 128))
        return image_bytes_of(mask)
    if convention == "white-16-bit-grey":
        mask = Image.new("I;16", size, 0)
        mask.paste(65535, (box[0], box[1], box[2] + 1, box[3] + 1))
        return image_bytes_of(mask)
    modes = {"white-grey": ("L", 0, 255), "white-bitmap": ("1", 0, 1), "white-rgb": ("RGB", "black", "white"),
             "white-opaque-rgba": ("RGBA", (0, 0, 0, 255), (255, 255, 255, 255)),
             "white-greyscale-soft": ("L", 40, 220)}
    mode, keep, change = modes[convention]
    return image_bytes_of(mask_image(mode, keep, change, size, box))


def mask_image(mode, keep, change, size, box):
    mask = Image.new(mode, size, keep)
    ImageDraw.Draw(mask).rectangle(box, fill=change)
    return mask


def image_bytes_of(image, **save):
    out = io.BytesIO()
    image.save(out, "PNG", **save)
    return out.getvalue()


CONVENTIONS = {
    "transparent": "Read by transparency",
    "transparent-palette": "Read by transparency",
    "soft-edged-transparent": "Read by transparency",
    "white-grey": "Read as white = change",
    "white-bitmap": "Read as white = change",
    "white-rgb": "Read as white = change",
    "white-opaque-rgba": "Read as white = change",
    "white-greyscale-soft": "Read as white = change",
    "white-16-bit-grey": "Read as white = change",
}


def as_upload(data, name="mask.png"):
    return upload(name, data=data)


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_a_mask_in_either_convention_is_stored_as_both_readings_understand_it(owner_client, team, convention):
    add_references(owner_client, upload("photo.png"))
    reference = Reference.objects.get()
    response = generate(owner_client, references=[str(reference.public_id)], mask=as_upload(mask_in(convention)))
    assert response.status_code == 302
    stored_mask = open_image(stored(Generation.objects.get().mask.file.name))
    assert stored_mask.mode == "RGBA"
    expected = Image.new("RGBA", stored_mask.size, MASK_KEEP_PIXEL)
    expected.paste(MASK_CHANGE_PIXEL, (BOX[0], BOX[1], BOX[2] + 1, BOX[3] + 1))
    assert ImageChops.difference(stored_mask, expected).getbbox() is None


@pytest.mark.parametrize("convention", ["transparent", "white-grey"])
def test_a_mask_edit_changes_only_its_area_whichever_way_the_service_reads_masks(
    owner_client, team, convention, sandbox_mask_reading
):
    add_references(owner_client, upload("photo.png"))
    reference = Reference.objects.get()
    generate(owner_client, references=[str(reference.public_id)], mask=as_upload(mask_in(convention)))
    generation = drive(Generation.objects.get())
    assert generation.status == Status.COMPLETED
    assert_service_changed_only(generation.images.get(), reference, BOX)


def preview(client, reference, mask):
    data = {"references": [str(reference.public_id)], "mask": mask}
    return client.post(reverse("studio:mask-preview"), data, headers={"HX-Request": "true"})


@pytest.mark.parametrize("convention", ["transparent", "white-grey", "white-opaque-rgba"])
def test_an_uploaded_mask_is_shown_as_understood_before_generate(owner_client, team, convention):
    add_references(owner_client, upload("photo.png"))
    reference = Reference.objects.get()
    response = preview(owner_client, reference, as_upload(mask_in(convention)))
    assert response.status_code == 200
    body = response.text
    assert CONVENTIONS[convention] in body
    assert "<script" not in body
    overlay = re.search(r'src="data:image/webp;base64,([^"]+)" class="mask-overlay"', body)
    shown = open_image(base64.b64decode(overlay.group(1)))
    assert shown.size == (512, 512)  # the reference's thumbnail size, laid over it
    alpha = shown.getchannel("A")
    assert alpha.getpixel((370, 370)) < 16 and alpha.getpixel((100, 100)) > 240  # clear where it changes
    assert f'src="{reverse("studio:reference", args=[reference.public_id, "thumb"])}"' in body
    assert Generation.objects.count() == 0 and Reference.objects.count() == 1  # nothing sent or stored


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (lambda: image_bytes(), "is in colour"),
        (lambda: image_bytes_of(Image.new("L", (1024, 1024), 0)), "no transparent pixels and no white ones"),
        (lambda: mask_in("white-grey", size=(800, 600), box=(10, 10, 20, 20)), "The mask is 800 × 600 pixels"),
    ],
    ids=["colour-picture", "all-black", "wrong-size"],
)
def test_a_mask_that_marks_nothing_is_refused_in_the_preview(owner_client, team, data, phrase):
    add_references(owner_client, upload("photo.png"))
    response = preview(owner_client, Reference.objects.get(), as_upload(data()))
    assert response.status_code == 200
    assert phrase in html.unescape(response.text) and 'role="alert"' in response.text
    assert "mask-overlay" not in response.text


def show_code(client, **data):
    fields = {"prompt": "a lighthouse at dawn", "size": "3:2", "n": 2, **data}
    response = client.post(reverse("studio:code"), fields, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response


def code_text(response, name):
    """A snippet as copied: its text without the highlighting's tags."""
    match = re.search(rf'<code id="code-{name}">(.*?)</code>', response.text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def test_show_as_code_gives_a_python_request_that_runs_as_it_is(owner_client, sandbox, tmp_path):
    prompt = "a \"quoted\" sign saying 'OPEN' & $HOME\nsecond line"
    response = show_code(owner_client, prompt=prompt)
    assert sandbox.api_key not in response.text
    script = tmp_path / "request.py"
    script.write_text(code_text(response, "python"))
    run = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "EVOLINK_API_KEY": sandbox.api_key},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    task_id = run.stdout.split()[0]
    task = httpx.get(f"{sandbox.url}/v1/tasks/{task_id}", headers=sandbox.headers).json()
    assert task["id"] == task_id
    assert Generation.objects.count() == 0  # showing the code sends nothing itself


@pytest.mark.skipif(not shutil.which("node"), reason="Node.js is not installed")
def test_show_as_code_gives_a_javascript_request_that_runs_as_it_is(owner_client, sandbox, tmp_path):
    response = show_code(owner_client, prompt="a `backticked` ${sign} saying \"OPEN\"")
    script = tmp_path / "request.mjs"
    script.write_text(code_text(response, "javascript"))
    run = subprocess.run(
        ["node", str(script)],
        env={**os.environ, "EVOLINK_API_KEY": sandbox.api_key},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    task_id, status = run.stdout.split()
    assert status == "pending"
    task = httpx.get(f"{sandbox.url}/v1/tasks/{task_id}", headers=sandbox.headers).json()
    assert task["id"] == task_id


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_show_as_code_gives_a_curl_command_that_runs_as_it_is(owner_client, sandbox):
    response = show_code(owner_client, prompt="it's a 'quoted' prompt; echo $PATH")
    run = subprocess.run(
        ["bash", "-c", code_text(response, "curl")],
        env={**os.environ, "EVOLINK_API_KEY": sandbox.api_key},
        capture_output=True,
        text=True,
        timeout=30,
    )
    task = json.loads(run.stdout)
    assert task["status"] == "pending" and task["model"] == "gpt-4o-image"
    stored = httpx.get(f"{sandbox.url}/v1/tasks/{task['id']}", headers=sandbox.headers).json()
    assert stored["id"] == task["id"]


def test_show_as_code_lists_references_and_the_mask(owner_client, team):
    add_references(owner_client, upload("one.png"))
    reference = Reference.objects.get()
    response = show_code(
        owner_client, references=[str(reference.public_id)], mask=mask_upload(), callback_url="https://example.com/hook"
    )
    body = json.loads(code_text(response, "curl").split("-d ", 1)[1].strip("'"))
    assert body["image_urls"] == ["https://…/reference-1.png"]
    assert body["mask_url"] == "https://…/mask.png"
    assert body["callback_url"] == "https://example.com/hook"
    assert (body["size"], body["n"]) == ("3:2", 2)


def test_references_belong_to_their_team(owner_client, client, outsider, team):
    add_references(owner_client, upload("ours.png"))
    reference = Reference.objects.get()
    client.force_login(outsider)
    assert client.get(reverse("studio:reference", args=[reference.public_id, "full"])).status_code == 404
    assert client.get(reverse("studio:reference", args=[reference.public_id, "thumb"])).status_code == 404
    picked = client.post(
        reverse("studio:references"), {"add": f"reference:{reference.public_id}"}, headers={"HX-Request": "true"}
    )
    assert picked.status_code == 404
    earlier = client.get(reverse("studio:earlier-references"), headers={"HX-Request": "true"})
    assert str(reference.public_id) not in earlier.text
    response = client.post(reverse("studio:generate"), {"prompt": "x", "size": "1:1", "n": 1, "references": [str(reference.public_id)]})
    assert response.status_code == 400
    assert Generation.objects.count() == 0


def test_a_viewer_cannot_add_references(client, team):
    from .conftest import make_user

    viewer = make_user("vera", team, role="viewer")
    client.force_login(viewer)
    response = client.post(reverse("studio:references"), {"images": [upload()]}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert not Reference.objects.exists()


def test_earlier_images_offer_references_and_results_to_pick(owner_client, team):
    add_references(owner_client, upload("kept.png"))
    generate(owner_client)
    image = drive(Generation.objects.get()).images.get()
    response = owner_client.get(reverse("studio:earlier-references"), headers={"HX-Request": "true"})
    assert f"reference:{Reference.objects.get().public_id}" in response.text
    assert f"image:{image.public_id}" in response.text
