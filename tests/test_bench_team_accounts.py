"""The bench's team_accounts section: the usage page, its CSV and the budget check, timed."""

import pytest

from devtools.bench import pages, seeding
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db


def test_bench_times_the_usage_page_its_export_and_the_budget_check_on_this_months_work():
    team, user = seeding.bench_team()
    seeding.seed_generations(team, user, 30)

    report = pages.bench_team_accounts(team, user, requests=8)

    assert report["generations_this_month"] == 30
    assert report["usage_page_ms"]["count"] == 2 and report["usage_page_ms"]["p50"] > 0
    assert report["usage_csv_ms"]["count"] == 2
    assert report["budget_check_ms"]["count"] == 8
    assert Generation.objects.filter(team=team).count() == 30  # the checks reserved nothing
