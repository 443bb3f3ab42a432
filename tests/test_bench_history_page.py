"""The bench's history_page section: the History page timed over a large archive."""

import pytest

from devtools.bench import pages, seeding

pytestmark = pytest.mark.django_db


def test_bench_times_the_history_page_unfiltered_searched_filtered_and_deep():
    report = pages.bench_history_page(count=300, requests=8)

    assert report["generations_in_database"] == 330  # and a tenth as many of another team
    for view in ("unfiltered", "prompt_search", "prompt_search_no_match", "combined_filter", "page_21_unfiltered"):
        assert report[f"{view}_ms"]["count"] == 2 and report[f"{view}_ms"]["p50"] > 0


def test_the_deep_page_is_really_further_in(client):
    team, user = seeding.bench_team()
    seeding.seed_archive(team, [user], 200)
    client.force_login(user)
    cursor = pages.deep_page_cursor(client, "/generations/", pages=2)
    page = client.get("/generations/", {"after": cursor}).content.decode()
    assert "poster 103:" in page  # 200 rows, newest first, 48 a page: the third page starts at 200 - 97
