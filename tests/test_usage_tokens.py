"""The usage page's breakdown per personal token: what scripts made with each token in a month."""

import csv
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.generations.usage import Month, token_lines
from playground.teams import tokens

from .conftest import make_generation, signed_in

pytestmark = pytest.mark.django_db

PAGE = reverse("studio:usage")


def table_rows(page, table_id):
    table = page.split(f'id="{table_id}"')[1].split("</table>")[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + row)).strip() for row in table.split("<tr")[2:]
    ]


def made(team, user, token, credits, images=1):
    return make_generation(
        team, user, token=token, credits_estimated=credits, credits_charged=credits, images_delivered=images
    )


def test_each_tokens_generations_are_summed_busiest_first_beside_the_pages(team, owner, teammate):
    ci, _ = tokens.issue(team, owner, name="ci", monthly_cap=Decimal("10"))
    notebook, _ = tokens.issue(team, teammate, name="notebook")
    made(team, owner, ci, Decimal("3"), images=2)
    made(team, owner, ci, Decimal("1.5"))
    made(team, teammate, notebook, Decimal("6"), images=4)
    made(team, teammate, None, Decimal("1.5"))

    rows = table_rows(signed_in(teammate).get(PAGE).text, "tokens-table")
    assert rows[0].startswith(f"notebook {notebook.prefix}… tom 1 4 6 0")
    assert rows[1].startswith(f"ci {ci.prefix}… olivia 2 3 4.5 0")
    assert "4.5 of 10 credits (45%)" in rows[1]
    assert rows[2].startswith("On the pages 1 1 1.5 0")


def test_a_revoked_token_still_counts_and_says_so(team, teammate):
    token, _ = tokens.issue(team, teammate, name="old flow")
    made(team, teammate, token, Decimal("2"))
    tokens.revoke(token, teammate)
    rows = table_rows(signed_in(teammate).get(PAGE).text, "tokens-table")
    assert "old flow" in rows[0] and "(revoked)" in rows[0]


def test_without_token_use_in_the_month_there_is_no_breakdown(team, teammate):
    make_generation(team, teammate, credits_estimated=Decimal("1"))
    assert 'id="tokens-table"' not in signed_in(teammate).get(PAGE).text


def test_another_teams_tokens_are_not_in_the_breakdown(team, teammate, other_team, outsider):
    theirs, _ = tokens.issue(other_team, outsider, name="rival pipeline")
    made(other_team, outsider, theirs, Decimal("5"))
    mine, _ = tokens.issue(team, teammate, name="ci")
    made(team, teammate, mine, Decimal("1"))
    page = signed_in(teammate).get(PAGE).text
    assert "rival pipeline" not in page
    assert [line.name for line in token_lines(team, Month.current())[0]] == ["ci"]


def test_the_breakdown_is_one_query(team, teammate, django_assert_num_queries):
    for number in range(5):
        token, _ = tokens.issue(team, teammate, name=f"script {number}")
        made(team, teammate, token, Decimal("1"))
    with django_assert_num_queries(1):
        lines, _on_pages = token_lines(team, Month.current())
    assert len(lines) == 5


def test_the_csv_splits_each_day_and_member_by_the_token_used(team, owner, teammate):
    ci, _ = tokens.issue(team, teammate, name="ci")
    notebook, _ = tokens.issue(team, teammate, name="=notebook")
    made(team, teammate, ci, Decimal("2"), images=2)
    made(team, teammate, ci, Decimal("1"))
    made(team, teammate, notebook, Decimal("4"))
    make_generation(team, teammate, credits_estimated=Decimal("1.5"), credits_charged=Decimal("1.5"))
    response = signed_in(teammate).get(reverse("studio:usage-csv"))
    rows = list(csv.reader(response.content.decode().splitlines()))
    today = timezone.localdate().isoformat()
    assert rows == [
        ["date", "member", "generations", "images", "credits_charged", "credits_reserved", "token", "token_prefix"],
        [today, "tom", "1", "0", "1.5", "0", "", ""],
        [today, "tom", "1", "1", "4", "0", "'=notebook", notebook.prefix],
        [today, "tom", "2", "3", "3", "0", "ci", ci.prefix],
    ]
