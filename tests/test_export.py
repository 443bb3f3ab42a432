"""ZIP downloads: a generation or a selection, its images byte for byte, and a manifest of
prompts and parameters; streamed, and only ever of the team's own generations."""

import hashlib
import io
import json
import zipfile
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import StreamingHttpResponse
from django.urls import reverse

from playground.generations.models import GeneratedImage, Generation, Reference, Status, Tag
from playground.teams.models import Membership

from .conftest import drive, make_generation, make_user
from .images import image_bytes, upload

SELECTION = reverse("studio:selection-zip")


def generation_zip(client, generation):
    return client.get(reverse("studio:generation-zip", args=[generation.public_id]))


def opened(response):
    assert response.status_code == 200, response.content
    return zipfile.ZipFile(io.BytesIO(response.getvalue()))


def manifest(archive):
    return json.loads(archive.read("manifest.json"))


def stored_bytes(name):
    with default_storage.open(name) as stored:
        return stored.read()


def with_image(generation, index=0, colour=(200, 40, 40)):
    """A completed generation's stored image, without going through the sandbox."""
    data = image_bytes((64, 48), colour=colour)
    name = default_storage.save(f"test/{generation.public_id}-{index}.png", ContentFile(data))
    GeneratedImage.objects.create(
        generation=generation, index=index, file=name, thumbnail=name, content_type="image/png",
        width=64, height=48, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
    )
    return generation


@pytest.mark.django_db(transaction=True)  # a real generation: sent when its transaction commits
@pytest.mark.usefixtures("sandbox")
def test_a_generations_zip_holds_its_images_as_stored_and_a_manifest_of_how_it_was_made(owner_client, owner):
    owner_client.post(reverse("studio:references"), {"images": [upload("harbour.png")]}, headers={"HX-Request": "true"})
    reference = Reference.objects.get()
    owner_client.post(reverse("studio:generate"), {
        "prompt": "a red boat in the harbour", "size": "3:2", "n": 2, "references": [str(reference.public_id)],
    })
    generation = drive(Generation.objects.get())
    generation.tags.add(Tag.objects.create(team=generation.team, name="boats"))
    images = list(generation.images.all())

    response = generation_zip(owner_client, generation)

    day = f"{generation.created_at:%Y-%m-%d}"
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{day}-a-red-boat-in-the-harbour.zip"'
    archive = opened(response)
    assert archive.namelist() == ["manifest.json", *(f"{image.download_stem}.png" for image in images)]
    for image in images:
        assert archive.read(f"{image.download_stem}.png") == stored_bytes(image.file.name)
    (described,) = manifest(archive)["generations"]
    assert described["prompt"] == "a red boat in the harbour"
    assert {key: described[key] for key in ("public_id", "size", "n", "mode", "status", "created_by", "task_id")} == {
        "public_id": str(generation.public_id), "size": "3:2", "n": 2, "mode": "image", "status": "completed",
        "created_by": "olivia", "task_id": generation.task_id,
    }
    assert described["credits"]["charged"] == str(generation.credits_charged)
    assert described["tags"] == ["boats"]
    assert described["references"] == ["harbour.png"]
    assert [(entry["file"], entry["width"], entry["height"]) for entry in described["images"]] == [
        (f"{image.download_stem}.png", 1536, 1024) for image in images
    ]
    for entry in described["images"]:
        data = archive.read(entry["file"])
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db
def test_a_selection_puts_each_generation_in_its_own_folder(owner_client, team, owner):
    boat = with_image(make_generation(team, owner, prompt="a red boat", status=Status.COMPLETED))
    cat = with_image(make_generation(team, owner, prompt="a grey cat", status=Status.COMPLETED), colour=(90, 90, 90))

    response = owner_client.post(SELECTION, {"generation": [boat.public_id, cat.public_id]})

    assert response["Content-Disposition"].startswith('attachment; filename="generations-')
    archive = opened(response)
    day = f"{boat.created_at:%Y-%m-%d}"
    boat_image = f"{day}-a-red-boat-{boat.public_id.hex[:8]}/{day}-a-red-boat-1.png"
    cat_image = f"{day}-a-grey-cat-{cat.public_id.hex[:8]}/{day}-a-grey-cat-1.png"
    assert sorted(archive.namelist()) == sorted(["manifest.json", boat_image, cat_image])
    assert archive.read(boat_image) == stored_bytes(boat.images.get().file.name)
    assert archive.read(cat_image) == stored_bytes(cat.images.get().file.name)
    described = {entry["prompt"]: entry["images"][0]["file"] for entry in manifest(archive)["generations"]}
    assert described == {"a red boat": boat_image, "a grey cat": cat_image}


@pytest.mark.django_db
def test_a_failed_generation_is_in_the_manifest_with_its_error_and_no_images(owner_client, team, owner):
    failed = make_generation(team, owner, status=Status.FAILED, error_message="The service refused the prompt.")

    archive = opened(generation_zip(owner_client, failed))

    assert archive.namelist() == ["manifest.json"]
    (described,) = manifest(archive)["generations"]
    assert (described["status"], described["error"], described["images"]) == (
        "failed", "The service refused the prompt.", []
    )


@pytest.mark.django_db
def test_the_zip_is_streamed_not_built_in_memory(owner_client, team, owner):
    generation = with_image(make_generation(team, owner, status=Status.COMPLETED))

    response = generation_zip(owner_client, generation)

    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming is True
    assert not response.has_header("Content-Length")


@pytest.mark.django_db
def test_each_image_is_sent_in_chunks_as_it_is_read(owner_client, team, owner, monkeypatch):
    monkeypatch.setattr("playground.generations.archive.CHUNK", 50)
    generation = with_image(make_generation(team, owner, status=Status.COMPLETED))

    manifest_chunk, *image_chunks, directory = generation_zip(owner_client, generation).streaming_content

    assert len(image_chunks) > generation.images.get().bytes // 50
    assert max(len(chunk) for chunk in image_chunks) <= 50 + 150  # a chunk, with at most an entry's header


@pytest.mark.django_db
def test_korean_prompts_give_korean_file_names(owner_client, team, owner):
    generation = with_image(make_generation(team, owner, prompt="바닷가의 빨간 자전거", status=Status.COMPLETED))

    response = generation_zip(owner_client, generation)

    day = f"{generation.created_at:%Y-%m-%d}"
    assert response["Content-Disposition"] == (
        f"attachment; filename*=utf-8''{quote(f'{day}-바닷가의-빨간-자전거.zip')}"
    )
    archive = opened(response)
    assert archive.namelist() == ["manifest.json", f"{day}-바닷가의-빨간-자전거-1.png"]
    assert manifest(archive)["generations"][0]["prompt"] == "바닷가의 빨간 자전거"


@pytest.mark.django_db
def test_a_viewer_can_download(client, team, owner):
    generation = with_image(make_generation(team, owner, status=Status.COMPLETED))
    client.force_login(make_user("vera", team, Membership.Role.VIEWER))

    assert len(opened(generation_zip(client, generation)).namelist()) == 2
    assert len(opened(client.post(SELECTION, {"generation": [generation.public_id]})).namelist()) == 2


@pytest.mark.django_db
def test_another_teams_generation_is_a_404(client, team, owner, outsider):
    generation = with_image(make_generation(team, owner, status=Status.COMPLETED))
    client.force_login(outsider)

    assert generation_zip(client, generation).status_code == 404


@pytest.mark.django_db
def test_a_selection_with_one_generation_of_another_team_sends_nothing(owner_client, team, owner, other_team, outsider):
    mine = with_image(make_generation(team, owner, status=Status.COMPLETED))
    theirs = with_image(make_generation(other_team, outsider, status=Status.COMPLETED))

    response = owner_client.post(SELECTION, {"generation": [mine.public_id, theirs.public_id]})

    assert response.status_code == 404
    assert not response.streaming


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [["not-an-id"], ["6f1c1b7e-8d0a-4a51-9d59-000000000000"]])
def test_an_unknown_id_in_a_selection_is_a_404(owner_client, ids):
    assert owner_client.post(SELECTION, {"generation": ids}).status_code == 404


@pytest.mark.django_db
def test_an_empty_selection_is_refused_with_a_sentence(owner_client):
    response = owner_client.post(SELECTION)

    assert response.status_code == 400
    assert "Choose at least one generation to download." in response.content.decode()


@pytest.mark.django_db
def test_more_than_500_generations_at_once_are_refused_with_a_sentence(owner_client, team, owner):
    ids = [make_generation(team, owner).public_id for _ in range(501)]

    response = owner_client.post(SELECTION, {"generation": ids})

    assert response.status_code == 400
    assert "A ZIP holds at most 500 generations and you chose 501." in response.content.decode()


@pytest.mark.django_db
def test_the_selection_must_be_posted(owner_client, team, owner):
    generation = make_generation(team, owner)
    assert owner_client.get(SELECTION, {"generation": generation.public_id}).status_code == 405
