"""Re-running a generation: the form comes back as it was asked for, its references and
mask included; and "use as reference" from anywhere."""

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageChops

from playground.evolink.contract import MASK_CHANGE_PIXEL, MASK_KEEP_PIXEL
from playground.generations.models import Generation, Mode, Reference, Status

from .conftest import drive
from .images import mask_bytes, mask_upload, open_image, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]


def generate(client, **data):
    fields = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1, **data}
    return client.post(reverse("studio:generate"), fields)


@pytest.fixture
def real_edit(owner_client):
    """An edit made through the form and the sandbox."""
    owner_client.post(reverse("studio:references"), {"images": [upload("harbour.png")]}, headers={"HX-Request": "true"})
    reference = Reference.objects.get(kind=Reference.Kind.IMAGE)
    generate(owner_client, prompt="a red boat in the harbour", size="3:2", n=2,
             references=[str(reference.public_id)], mask=mask_upload(), strict_mask="on")
    return drive(Generation.objects.get())


@pytest.fixture
def edit(team, owner):
    """The same edit, finished, made straight from rows: for the tests that only read it."""
    from playground.generations.models import GenerationReference

    from .finished import finished_generation, stored_reference

    mask = stored_reference(team, owner, "mask.png", Reference.Kind.MASK)
    generation = finished_generation(team, owner, prompt="a red boat in the harbour", size="3:2", n=2,
                                     mode=Mode.EDIT, mask=mask, strict_mask=True)
    harbour = stored_reference(team, owner, "harbour.png")
    GenerationReference.objects.create(generation=generation, reference=harbour, position=0)
    return generation


def test_the_rerun_form_is_filled_in_as_the_generation_was_asked_for(owner_client, edit):
    page = owner_client.get(reverse("studio:playground"), {"rerun": edit.public_id}).content.decode()

    assert ">a red boat in the harbour</textarea>" in page
    assert re.search(r'name="size" id="[^"]+" value="3:2" checked', page)
    assert re.search(r'name="n" id="[^"]+" value="2" checked', page)
    assert f'name="references" value="{edit.ordered_references()[0].public_id}"' in page
    assert f'name="stored_mask" id="id_stored_mask" value="{edit.mask.public_id}" checked' in page


@pytest.mark.django_db(transaction=True)  # both generations are sent when their transaction commits
def test_running_it_again_sends_the_same_reference_and_mask(owner_client, real_edit):
    edit = real_edit
    before = Reference.objects.count()
    generate(owner_client, prompt="a red boat in the harbour", size="3:2", n=2,
             references=[str(edit.ordered_references()[0].public_id)], stored_mask=str(edit.mask.public_id),
             strict_mask="on")
    again = drive(Generation.objects.exclude(pk=edit.pk).get())

    assert again.status == Status.COMPLETED
    assert again.mode == Mode.EDIT
    assert again.mask == edit.mask
    assert again.ordered_references() == edit.ordered_references()
    assert Reference.objects.count() == before  # nothing stored twice


def test_another_teams_mask_is_refused_next_to_the_mask(client, edit, outsider):
    client.force_login(outsider)
    client.post(reverse("studio:references"), {"images": [upload("mine.png")]}, headers={"HX-Request": "true"})
    mine = Reference.objects.get(team=outsider.memberships.get().team)
    response = generate(client, references=[str(mine.public_id)], stored_mask=str(edit.mask.public_id))

    assert "The earlier mask is no longer available" in response.content.decode()
    assert Generation.objects.count() == 1


def test_another_teams_generation_cannot_be_rerun(client, edit, outsider):
    client.force_login(outsider)
    page = client.get(reverse("studio:playground"), {"rerun": edit.public_id}).content.decode()
    assert "That generation or image is no longer there." in page
    assert "a red boat in the harbour" not in page


def test_use_as_reference_opens_the_form_with_that_image_chosen(owner_client, edit):
    image = edit.images.first()
    page = owner_client.get(reverse("studio:playground"), {"reference": f"image:{image.public_id}"}).content.decode()
    picked = Reference.objects.get(sha256=image.sha256)
    assert f'name="references" value="{picked.public_id}"' in page


def test_a_mask_stored_before_masks_were_made_for_both_readings_is_sent_made_so(owner_client, team):
    """Such a mask marked its area only by transparency; run again, a copy made so is sent."""
    owner_client.post(reverse("studio:references"), {"images": [upload("photo.png")]}, headers={"HX-Request": "true"})
    reference = Reference.objects.get()
    old_bytes = mask_bytes(box=(10, 10, 99, 99))  # transparent black in the box, opaque black elsewhere
    name = default_storage.save(f"references/{team.pk}/old-mask.png", ContentFile(old_bytes))
    old = Reference.objects.create(
        team=team, kind=Reference.Kind.MASK, file=name, thumbnail=name, content_type="image/png",
        width=1024, height=1024, bytes=len(old_bytes), sha256="old", original_name="mask.png",
    )
    generate(owner_client, references=[str(reference.public_id)], stored_mask=str(old.public_id), strict_mask="on")
    sent = drive(Generation.objects.get()).mask
    assert sent != old
    with default_storage.open(sent.file.name) as stored:
        mask = open_image(stored.read())
    expected = Image.new("RGBA", mask.size, MASK_KEEP_PIXEL)
    expected.paste(MASK_CHANGE_PIXEL, (10, 10, 100, 100))
    assert ImageChops.difference(mask, expected).getbbox() is None


def test_a_generation_sized_in_pixels_is_run_again_in_pixels(owner_client, team, owner):
    from .finished import finished_generation

    generation = finished_generation(team, owner, prompt="a tall window", size="1024x1536")
    page = owner_client.get(reverse("studio:playground"), {"rerun": generation.public_id}).content.decode()

    assert re.search(r'name="size" id="[^"]+" value="1024x1536" checked', page)
    assert re.search(r'id="size-form-pixels" value="pixels" data-size-form checked', page)
    assert re.search(r'<details class="api-options" open>', page)  # where the choice of form is made
