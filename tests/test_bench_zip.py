"""The bench's ZIP export section: a real selection ZIP, streamed and counted, never held."""

import pytest

from devtools.bench import measuring, pages, seeding
from playground.generations import archive
from playground.generations.models import GeneratedImage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]


def test_bench_zip_export_streams_a_selection_in_far_less_memory_than_its_size():
    team, user = seeding.bench_team()

    report = pages.bench_zip_export(team, user, 6)
    images = GeneratedImage.objects.filter(generation__team=team)

    assert report["generations"] == 6
    assert 2.5 < report["image_mb"] < 3.5
    assert report["zip_bytes"] > sum(image.bytes for image in images)
    assert report["seconds"] > 0 and report["first_byte_ms"] > 0
    assert report["largest_chunk_mb"] < report["image_mb"]  # no image is sent in one piece
    # A few chunks in flight at most, whatever the size of the ZIP.
    assert report["memory"]["python_peak_mb"] < 4 * archive.CHUNK / measuring.MB < report["zip_mb"] / 2


def test_zero_zip_images_skip_the_section():
    assert pages.bench_zip_export(None, None, 0) == {"skipped": True}
