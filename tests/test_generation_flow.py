"""From the form to stored images, over real HTTP to the running sandbox."""

import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from playground.generations.models import Generation, Status

from .conftest import drive
from .storage import generation_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def post_generate(client, **data):
    return client.post(reverse("studio:generate"), {"prompt": "a lighthouse at dawn", "size": "1:1", "n": 1, **data})


@pytest.mark.parametrize(
    "size, n, pixels",
    [("1:1", 1, (1024, 1024)), ("2:3", 2, (1024, 1536)), ("1536x1024", 4, (1536, 1024))],
)
def test_a_generation_is_stored_with_n_images_of_the_requested_size(owner_client, size, n, pixels):
    response = post_generate(owner_client, size=size, n=n)
    generation = Generation.objects.get()
    assert response.status_code == 302
    assert generation.task_id.startswith("task-unified-")  # submitted at once by the queue job
    drive(generation)

    assert generation.status == Status.COMPLETED
    images = list(generation.images.all())
    assert [image.index for image in images] == list(range(n))
    for image in images:
        with default_storage.open(image.file.name) as stored:
            data = stored.read()
        assert Image.open(io.BytesIO(data)).size == pixels
        assert (image.width, image.height) == pixels
        assert image.bytes == len(data)
        assert image.sha256 == hashlib.sha256(data).hexdigest()
        with default_storage.open(image.thumbnail.name) as thumb:
            assert max(Image.open(thumb).size) <= 512


def test_the_upstream_estimate_and_reservation_are_recorded(owner_client):
    post_generate(owner_client, n=2)
    generation = Generation.objects.get()
    assert generation.estimated_seconds >= 1
    assert generation.credits_reserved > 0
    assert generation.submitted_at is not None


def test_a_failed_task_is_shown_with_its_reason(owner_client):
    post_generate(owner_client, prompt="a poster [sandbox:fail=content_policy_violation]")
    generation = drive(Generation.objects.get())

    assert generation.status == Status.FAILED
    assert generation.error_code == "content_policy_violation"
    page = owner_client.get(reverse("studio:playground")).content.decode()
    assert "refused by the content policy" in page
    assert not generation.images.exists()


def test_a_generation_survives_a_burst_of_503s_while_polling(owner_client, sandbox_faults):
    post_generate(owner_client)
    generation = Generation.objects.get()
    sandbox_faults(error_status=503, error_count=3)
    drive(generation)
    assert generation.status == Status.COMPLETED
    assert generation.images.count() == 1


def test_a_submission_refused_upstream_fails_with_a_plain_message(owner_client, sandbox_faults):
    sandbox_faults(error_status=500, error_count=1)
    post_generate(owner_client)
    generation = Generation.objects.get()
    assert generation.status == Status.FAILED
    assert "internal error" in generation.error_message


def test_a_rate_limited_submission_is_retried_and_goes_through(owner_client, sandbox_faults):
    sandbox_faults(error_status=429, error_count=2, retry_after=0)
    post_generate(owner_client)
    generation = drive(Generation.objects.get())
    assert generation.status == Status.COMPLETED


def test_a_link_that_expired_before_download_ends_the_generation_expired(owner_client, sandbox_faults):
    sandbox_faults(link_ttl=0)
    post_generate(owner_client)
    generation = drive(Generation.objects.get())
    assert generation.status == Status.EXPIRED
    assert "expired before the images could be saved" in generation.error_message
    assert not generation.images.exists()


def test_an_ingest_killed_after_writing_a_file_leaves_no_orphan_when_rerun(owner_client):
    from playground.generations.ingest import ingest

    post_generate(owner_client, n=2)
    generation = drive(Generation.objects.get())
    files_before = generation_files(generation)
    # As if killed between writing image #2's files and recording its row:
    generation.images.filter(index=1).delete()
    Generation.objects.filter(pk=generation.pk).update(status=Status.INGESTING)
    assert ingest(generation.pk)
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 1]
    assert generation_files(generation) == files_before  # replaced, not renamed
