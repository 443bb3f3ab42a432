"""The bench's references section: near-limit uploads through the view, then hosted."""

import pytest

from devtools.bench import measuring, pages, seeding
from playground.generations import images
from playground.generations.models import Reference

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]


def test_bench_references_validates_stores_and_hosts_near_limit_files(tmp_path):
    seeding.make_references(tmp_path, 2)
    paths = sorted(tmp_path.glob("*.png"))
    assert all(9 * measuring.MB < path.stat().st_size <= images.MAX_REFERENCE_BYTES for path in paths)
    assert paths[0].read_bytes() != paths[1].read_bytes()

    team, user = seeding.bench_team()
    report = pages.bench_references(team, user, tmp_path)

    assert report["files"] == 2 and len(report["file_mb"]) == 2
    assert Reference.objects.filter(team=team, hosted_url__gt="").count() == 2
    for step in ("validate_and_store", "hosting"):
        assert report[step]["seconds"] > 0
        assert report[step]["python_peak_mb"] < report["file_mb"][0]  # no file read whole
