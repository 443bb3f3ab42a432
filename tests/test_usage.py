"""The usage page and its CSV export: figures per day and member, the chart, the balance."""

import csv
import html
import re
import time
from datetime import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from playground.amounts import plain
from playground.evolink.client import EvoLinkClient
from playground.generations import totals
from playground.generations.chart import credits_chart, ticks_for
from playground.generations.models import GeneratedImage, Generation, Status
from playground.generations.usage import Figures, Month, csv_cell, month_usage
from playground.studio.views.usage import balance_cache_key
from playground.teams.models import Membership
from playground.teams.upstream import client_for

from .conftest import make_generation, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]

NOVEMBER = Month(2025, 11)
PAGE = reverse("studio:usage")
CSV = reverse("studio:usage-csv")
BALANCE = reverse("studio:usage-balance")
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def no_balance_kept():
    """Balances are cached by team id, and ids come back from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def credits_calls(monkeypatch):
    """The calls made to the vendor's credits endpoint, counted."""
    calls = []
    get_credits = EvoLinkClient.get_credits

    def counted(client):
        calls.append(client.base_url)
        return get_credits(client)

    monkeypatch.setattr(EvoLinkClient, "get_credits", counted)
    return calls


def at(day, hour=12, minute=0, month=11, year=2025):
    """An instant on a day of November 2025 (by default), in the current time zone."""
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def generation(team, user, when, *, n=1, status=Status.COMPLETED, charged=None, images=0):
    made = make_generation(
        team,
        user,
        n=n,
        status=status,
        created_at=when,
        credits_estimated=Decimal("1.5") * n,
        credits_charged=charged,
        images_delivered=images,
    )
    for index in range(images):
        GeneratedImage.objects.create(
            generation=made,
            index=index,
            file=f"images/{made.public_id}-{index}.png",
            thumbnail=f"thumbs/{made.public_id}-{index}.webp",
            content_type="image/png",
            width=1024,
            height=1024,
            bytes=1000,
            sha256="0" * 64,
        )
    return made


@pytest.fixture
def november(team, owner, teammate, other_team, outsider):
    """Two members' November: busy on the 3rd, one task still running on the 10th, one on the 30th.

    Around it, work outside the month and another team's work, which never count.
    """
    generation(team, owner, at(3, 9), n=2, charged=Decimal(3), images=2)
    generation(team, owner, at(3, 15), charged=Decimal("1.5"), images=1)
    generation(team, teammate, at(3, 16), status=Status.FAILED, charged=Decimal(0))
    generation(team, teammate, at(10), n=2, status=Status.PROCESSING)
    generation(team, owner, at(30, 23), charged=Decimal("1.5"), images=1)
    generation(team, owner, at(31, 23, month=10), charged=Decimal(3), images=2)
    generation(team, owner, at(1, 0, month=12), charged=Decimal(3), images=2)
    generation(other_team, outsider, at(3), n=4, charged=Decimal(99), images=4)


def text(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def table_rows(page, table_id):
    """The rows of the table with this id, as lists of cell texts (header and footer included)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [[text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def figure(page, name):
    return text(re.search(rf'<dd id="total-{name}">(.*?)</dd>', page, re.S).group(1))


def get_page(client, month=NOVEMBER):
    response = client.get(PAGE, {"month": str(month)})
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(response):
    return list(csv.reader(response.content.decode().splitlines()))


# -- who sees it -----------------------------------------------------------------


def test_a_signed_out_visitor_is_asked_to_sign_in(client):
    for url in (PAGE, CSV):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_someone_in_no_team_gets_a_404(client, db):
    client.force_login(make_user("nobody", None))
    assert client.get(PAGE).status_code == 404
    assert client.get(CSV).status_code == 404


def test_a_viewer_sees_the_teams_usage(client, team, november):
    client.force_login(make_user("vera", team, Membership.Role.VIEWER))
    page = get_page(client)
    assert figure(page, "generations") == "5"
    assert client.get(CSV, {"month": "2025-11"}).status_code == 200


def test_another_teams_generations_are_never_counted(owner_client, outsider, november):
    page = get_page(owner_client)
    assert figure(page, "charged") == "6"
    assert "oscar" not in page
    assert all(row[1] != "oscar" for row in csv_rows(owner_client.get(CSV, {"month": "2025-11"})))

    theirs_client = Client()
    theirs_client.force_login(outsider)
    theirs = get_page(theirs_client)
    assert figure(theirs, "generations") == "1"
    assert figure(theirs, "charged") == "99"
    assert "olivia" not in theirs and "tom" not in theirs


# -- the figures -----------------------------------------------------------------


def test_the_page_shows_the_months_totals_with_charged_and_reserved_apart(owner_client, november):
    page = get_page(owner_client)
    assert "<h1>Usage in November 2025</h1>" in page
    assert figure(page, "generations") == "5"
    assert figure(page, "images") == "4"
    assert figure(page, "charged") == "6"
    assert figure(page, "reserved") == "3"
    assert "Images delivered are the images stored for the team" in page


def test_the_day_table_gives_each_day_with_generations(owner_client, november):
    assert table_rows(get_page(owner_client), "days-table") == [
        ["Day", "Generations", "Images delivered", "Credits charged", "Credits reserved"],
        ["November 3", "3", "3", "4.5", "0"],
        ["November 10", "1", "0", "0", "3"],
        ["November 30", "1", "1", "1.5", "0"],
        ["Total", "5", "4", "6", "3"],
    ]


def test_the_member_table_shows_spent_against_each_budget(owner_client, team, teammate, november):
    team.monthly_budget = Decimal(20)
    team.save()
    Membership.objects.filter(user=teammate).update(monthly_budget=Decimal(10))
    page = get_page(owner_client)
    assert table_rows(page, "members-table") == [
        [
            "Member",
            "Generations",
            "Images delivered",
            "Credits charged",
            "Credits reserved",
            "Spent of monthly budget",
        ],
        ["olivia", "3", "4", "6", "0", "No budget"],
        ["tom", "2", "0", "0", "3", "Budget used by tom 3 of 10 credits (30%)"],
        ["Team", "5", "4", "6", "3", "Budget used by the team 9 of 20 credits (45%)"],
    ]
    assert '<meter id="budget-2" min="0" max="10" low="7.5" high="9" optimum="0" value="3"></meter>' in page
    assert (
        '<meter id="budget-team" min="0" max="20" low="15" high="18" optimum="0" value="9"></meter>' in page
    )


def test_a_member_over_budget_is_marked(owner_client, teammate, november):
    Membership.objects.filter(user=teammate).update(monthly_budget=Decimal(2))
    rows = table_rows(get_page(owner_client), "members-table")
    assert rows[2][-1] == "Budget used by tom 3 of 2 credits (150%) · over budget"


def test_a_budget_of_zero_draws_no_meter_and_leaves_no_label_without_its_control(
    owner_client, team, teammate, november
):
    team.monthly_budget = Decimal(0)
    team.save()
    Membership.objects.filter(user=teammate).update(monthly_budget=Decimal(0))
    page = get_page(owner_client)
    assert "<meter" not in page
    assert '<span class="budget-label">Team budget</span>' in page
    assert table_rows(page, "members-table")[2][-1] == "3 of 0 credits · over budget"
    assert table_rows(page, "members-table")[3][-1] == "9 of 0 credits · over budget"


def test_every_label_names_a_control(owner_client, team, teammate, owner, november):
    team.monthly_budget = Decimal(20)
    team.save()
    Membership.objects.filter(user=teammate).update(monthly_budget=Decimal(0))
    Membership.objects.filter(user=owner).update(monthly_budget=Decimal(10))
    page = get_page(owner_client)
    targets = re.findall(r'<label[^>]* for="([^"]+)"', page)
    assert "budget-1" in targets and "budget-2" not in targets
    for target in targets:
        assert page.count(f' id="{target}"') == 1, target


def test_a_member_without_generations_still_has_a_line(owner_client, team, november):
    make_user("quiet", team)
    rows = table_rows(get_page(owner_client), "members-table")
    assert ["quiet", "0", "0", "0", "0", "No budget"] in rows


def test_a_former_members_generations_still_count(owner_client, teammate, november):
    teammate.delete()  # their generations stay, without an author
    rows = table_rows(get_page(owner_client), "members-table")
    assert rows[2][:5] == ["Deleted account (no longer a member)", "2", "0", "0", "3"]
    assert rows[-1][:5] == ["Team", "5", "4", "6", "3"]


def test_a_quiet_month_says_so_and_draws_no_chart(owner_client, november):
    page = get_page(owner_client, Month(2025, 6))
    assert "No generations in June 2025." in page
    assert 'class="usage-chart"' not in page and 'id="chart-title"' not in page
    assert figure(page, "generations") == "0"


# -- the chart -------------------------------------------------------------------


def test_the_chart_has_one_bar_per_day_with_generations_and_says_what_it_shows(owner_client, november):
    page = get_page(owner_client)
    svg = chart_svg(page)
    assert 'role="img" aria-labelledby="chart-title" aria-describedby="chart-desc"' in svg
    assert '<title id="chart-title">Credits per day in November 2025</title>' in svg
    assert "9 credits in all, over 3 days. The busiest day was Nov 3, with 4.5 credits." in svg
    assert re.findall(r'<g class="chart-bar">\s*<title>(.*?)</title>', svg) == [
        "Nov 3: 4.5 credits, 3 images",
        "Nov 10: 3 credits (3 reserved), 0 images",
        "Nov 30: 1.5 credits, 1 image",
    ]
    assert svg.count('class="chart-reserved"') == 1  # only the 10th has a task still running
    assert " style=" not in page  # the CSP allows no inline styles: colours come from classes


def chart_svg(page):
    """The chart, not the icons elsewhere on the page."""
    return re.search(r'<div class="usage-chart".*?(<svg.*?</svg>)', page, re.S).group(1)


def test_the_chart_labels_days_and_round_credit_steps(owner_client, november):
    svg = chart_svg(get_page(owner_client))
    labels = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    assert labels == ["0", "2", "4", "6", "1", "5", "10", "15", "20", "25", "30"]


def test_bars_are_as_tall_as_their_credits():
    days = [(day, Figures()) for day in NOVEMBER.days]
    days[2] = (days[2][0], Figures(generations=3, images=3, charged=Decimal("4.5")))
    days[9] = (days[9][0], Figures(generations=1, charged=Decimal("1.5"), reserved=Decimal(3)))
    chart = credits_chart(days, NOVEMBER.label)
    busy, running = chart.bars
    scale = chart.plot_height / 6  # the axis runs to 6 credits
    assert busy.charged_height == pytest.approx(4.5 * scale, abs=0.01)
    assert busy.reserved_height == 0
    assert running.charged_height == pytest.approx(1.5 * scale, abs=0.01)
    assert running.reserved_height == pytest.approx(3 * scale, abs=0.01)
    assert running.reserved_y + running.reserved_height == pytest.approx(running.charged_y, abs=0.01)
    assert busy.x < running.x


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        ("4.5", ["0", "2", "4", "6"]),
        ("1.5", ["0", "0.5", "1", "1.5"]),
        ("9", ["0", "2.5", "5", "7.5", "10"]),
        ("120", ["0", "50", "100", "150"]),
        ("0", ["0", "1"]),
    ],
)
def test_the_y_axis_steps_are_round(largest, ticks):
    assert [plain(value) for value in ticks_for(Decimal(largest))] == ticks


# -- choosing a month ------------------------------------------------------------


def test_the_page_shows_the_current_month_by_default(owner_client):
    current = Month.current()
    page = owner_client.get(PAGE).content.decode()
    assert f"<h1>Usage in {current.label}</h1>" in page
    assert f'<input type="month" id="month" name="month" value="{current}"' in page
    assert 'rel="next"' not in page  # nothing to see in the future
    assert f'href="{PAGE}?month={current.previous}" rel="prev"' in page


def test_previous_and_next_months_are_links(owner_client):
    page = get_page(owner_client)
    assert f'<a href="{PAGE}?month=2025-10" rel="prev">← October 2025</a>' in page
    assert f'<a href="{PAGE}?month=2025-12" rel="next">December 2025 →</a>' in page
    assert f'<a href="{PAGE}">This month</a>' in page
    assert f'href="{CSV}?month=2025-11" download' in page


def test_the_year_wraps_around_in_the_month_links(owner_client):
    page = get_page(owner_client, Month(2025, 1))
    assert f"{PAGE}?month=2024-12" in page and f"{PAGE}?month=2025-02" in page


@pytest.mark.parametrize("value", ["2025-13", "November", "2025-1", "0001-01", "2025-11<script>"])
def test_an_invalid_month_is_explained_beside_the_field_and_the_current_month_shown(owner_client, value):
    response = owner_client.get(PAGE, {"month": value})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-describedby="month-help month-error" aria-invalid="true"' in page
    message = re.search(r'<p class="error" id="month-error">(.*?)</p>', page).group(1)
    assert "is not a month: enter one as YYYY-MM" in html.unescape(message)
    assert message.endswith("Showing this month instead.")
    assert "<script>" not in message
    assert f"<h1>Usage in {Month.current().label}</h1>" in page


def test_the_csv_refuses_an_invalid_month(owner_client):
    response = owner_client.get(CSV, {"month": "2025-13"})
    assert response.status_code == 400
    assert "is not a month" in response.content.decode()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Seoul"])
def test_days_and_months_follow_the_local_time_zone(settings, owner_client, team, owner, zone):
    """23:30 on 30 November in New York is already December in UTC; 00:30 on 1 November
    in Seoul is still October in UTC. Both count where the team's clock puts them."""
    settings.TIME_ZONE = zone
    generation(team, owner, at(30, 23, 30), charged=Decimal("1.5"), images=1)
    generation(team, owner, at(1, 0, 30), charged=Decimal(3), images=2)
    generation(team, owner, at(1, 0, 30, month=12), charged=Decimal(6))
    generation(team, owner, at(31, 23, 30, month=10), charged=Decimal(12))

    rows = csv_rows(owner_client.get(CSV, {"month": "2025-11"}))
    assert rows[1:] == [
        ["2025-11-01", "olivia", "1", "2", "3", "0", "", ""],
        ["2025-11-30", "olivia", "1", "1", "1.5", "0", "", ""],
    ]
    assert table_rows(get_page(owner_client), "days-table")[1:] == [
        ["November 1", "1", "2", "3", "0"],
        ["November 30", "1", "1", "1.5", "0"],
        ["Total", "2", "3", "4.5", "0"],
    ]
    assert figure(get_page(owner_client, Month(2025, 12)), "charged") == "6"
    assert figure(get_page(owner_client, Month(2025, 10)), "charged") == "12"


# -- the CSV ---------------------------------------------------------------------


def test_the_csv_has_one_row_per_day_and_member(owner_client, november):
    response = owner_client.get(CSV, {"month": "2025-11"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="usage-acme-2025-11.csv"'
    assert csv_rows(response) == [
        ["date", "member", "generations", "images", "credits_charged", "credits_reserved", "token", "token_prefix"],
        ["2025-11-03", "olivia", "2", "3", "4.5", "0", "", ""],
        ["2025-11-03", "tom", "1", "0", "0", "0", "", ""],
        ["2025-11-10", "tom", "1", "0", "0", "3", "", ""],
        ["2025-11-30", "olivia", "1", "1", "1.5", "0", "", ""],
    ]


def test_the_csv_of_the_current_month_is_the_default(owner_client, team, owner):
    make_generation(team, owner, credits_estimated=Decimal("1.5"))
    rows = csv_rows(owner_client.get(CSV))
    assert rows[1] == [timezone.localdate().isoformat(), "olivia", "1", "0", "0", "1.5", "", ""]


def test_the_csv_defuses_names_a_spreadsheet_would_run(owner_client, team):
    for number, name in enumerate(["=HYPERLINK(1)", "+sum", "-x", "@me"], start=1):
        generation(team, make_user(name, team), at(number), charged=Decimal(1))
    members = [row[1] for row in csv_rows(owner_client.get(CSV, {"month": "2025-11"}))[1:]]
    assert members == ["'=HYPERLINK(1)", "'+sum", "'-x", "'@me"]


def test_csv_cells_are_left_alone_unless_they_start_a_formula():
    assert csv_cell("olivia") == "olivia"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell("=1+1") == "'=1+1"


# -- the vendor's balance --------------------------------------------------------


def get_balance(client):
    response = client.get(BALANCE, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def shown_balance(fragment):
    return re.search(r"Remaining balance:\s*<strong[^>]*>(.*?)</strong>", fragment).group(1)


def test_the_page_loads_the_balance_after_it_is_shown(owner_client, credits_calls):
    page = get_page(owner_client)
    region = re.search(r'<div id="balance"[^>]*>.*?</div>', page, re.S).group(0)
    assert f'role="status" hx-get="{BALANCE}" hx-trigger="load"' in region
    assert "Loading balance…" in region
    assert f'<noscript><p><a href="{BALANCE}">Show the remaining balance</a></p></noscript>' in region
    assert "This team works against the built-in sandbox" in page
    assert credits_calls == []


def test_the_page_explains_why_the_accounts_used_differs_from_the_teams_charge(owner_client, team, owner, settings):
    make_generation(team, owner, status=Status.COMPLETED, credits_charged=Decimal("2.5"), created_at=at(3))
    page = " ".join(get_page(owner_client).split())
    assert "Why the account's “used” differs from the team's “credits charged”" in page
    assert "The 2.5 credits charged above are this team's generations in November 2025" in page
    assert "every demo image it has made since it started, for every team that uses it" in page

    settings.EVOLINK_API_KEY = "sk-deployment-key-1234"  # the deployment's key: a real account
    team.may_use_deployment_key = True
    team.save()
    page = " ".join(get_page(owner_client).split())
    assert "The 2.5 credits charged above are only this team's generations in November 2025" in page
    assert "every month since the account was opened, and everything else that uses the same key" in page


def test_the_page_is_shown_while_the_vendor_is_down_and_the_balance_then_says_why(
    owner_client, sandbox_faults, credits_calls
):
    sandbox_faults(error_status=503, error_count=5)
    page = get_page(owner_client)
    assert "<h1>Usage in November 2025</h1>" in page
    assert "could not be read" not in page
    assert credits_calls == []

    fragment = get_balance(owner_client)
    assert "The balance could not be read: The image service is temporarily unavailable." in fragment
    assert "<html" not in fragment


def test_the_fragment_shows_the_accounts_remaining_balance(owner_client, team):
    remaining = client_for(team).get_credits().remaining
    assert remaining > 0
    fragment = get_balance(owner_client)
    assert shown_balance(fragment) == plain(remaining)
    assert "used so far" in fragment


def test_the_balance_is_read_from_the_vendor_once_a_minute(owner_client, credits_calls, sandbox_faults):
    first = shown_balance(get_balance(owner_client))
    sandbox_faults(error_status=503, error_count=5)  # the vendor would now fail

    assert shown_balance(get_balance(owner_client)) == first
    assert len(credits_calls) == 1


def seconds_kept(key):
    """How long from now the cache keeps an entry: locally, or in Redis on the scale setup."""
    key = cache.make_and_validate_key(key)
    if isinstance(caches["default"], RedisCache):
        return cache._cache.get_client(key).pttl(key) / 1000
    return cache._expire_info[key] - time.time()


def everything_cached():
    """Every key and value the cache holds, as text."""
    if isinstance(caches["default"], RedisCache):
        client = cache._cache.get_client()
        return repr([(key, client.dump(key)) for key in client.scan_iter()])
    return repr(cache._cache) + repr(list(cache._cache))


def test_the_balance_is_read_again_after_a_minute(owner_client, team, credits_calls):
    get_balance(owner_client)
    get_balance(owner_client)
    assert len(credits_calls) == 1
    key = balance_cache_key(team)
    assert 55 < seconds_kept(key) <= 60
    cache.touch(key, 0)  # the minute is over
    get_balance(owner_client)
    assert len(credits_calls) == 2


def test_each_team_keeps_its_own_balance(owner_client, outsider, credits_calls):
    theirs = Client()
    theirs.force_login(outsider)
    for client in (owner_client, theirs, owner_client, theirs):
        get_balance(client)
    assert len(credits_calls) == 2


def test_an_error_is_not_kept(owner_client, sandbox_faults, credits_calls):
    sandbox_faults(error_status=503, error_count=1)
    assert "could not be read" in get_balance(owner_client)
    assert "Remaining balance" in get_balance(owner_client)
    assert len(credits_calls) == 2


def test_a_new_key_is_not_shown_the_old_keys_balance(owner_client, team, credits_calls):
    assert "Remaining balance" in get_balance(owner_client)
    team.set_api_key("sk-refused-0123456789-wxyz")
    team.api_base_url = settings.SANDBOX_URL
    team.save()
    assert "The API key was refused" in get_balance(owner_client)


def test_the_key_is_never_kept_in_the_cache(owner_client, team):
    team.set_api_key(settings.SANDBOX_API_KEY)
    team.api_base_url = settings.SANDBOX_URL
    team.save()
    get_balance(owner_client)
    assert cache.get(balance_cache_key(team)) is not None
    kept = everything_cached()
    assert settings.SANDBOX_API_KEY not in kept
    assert team.api_key_encrypted not in kept


def test_a_refused_key_is_a_plain_sentence_and_never_shown(owner_client, team):
    team.set_api_key("sk-refused-0123456789-wxyz")
    team.api_base_url = settings.SANDBOX_URL
    team.save()
    fragment = get_balance(owner_client)
    assert "The balance could not be read: The API key was refused: it is invalid or has expired." in fragment
    assert "sk-refused" not in fragment and "Traceback" not in fragment
    assert "Remaining balance" not in fragment


def test_without_javascript_the_balance_is_a_page_of_its_own(owner_client, team):
    response = owner_client.get(BALANCE)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="balance-title">EvoLink account</h1>' in page
    assert shown_balance(page) == plain(client_for(team).get_credits().remaining)
    assert f'<a href="{PAGE}">Back to usage</a>' in page


def test_the_balance_fragment_refuses_a_signed_out_request(client):
    assert client.get(BALANCE, headers=HTMX).status_code == 403
    assert client.get(BALANCE)["Location"].startswith(reverse("login"))


def test_the_balance_fragment_is_a_404_outside_any_team(client, db):
    client.force_login(make_user("nobody", None))
    assert client.get(BALANCE, headers=HTMX).status_code == 404


# -- cost ------------------------------------------------------------------------


def test_a_busy_month_costs_a_handful_of_queries(
    owner_client, team, owner, teammate, django_assert_max_num_queries
):
    rows = [
        Generation(
            team=team,
            created_by=owner if i // 30 % 2 else teammate,  # both of them on every day
            prompt="a red bicycle",
            created_at=at(1 + i % 30, i % 24),
            status=Status.COMPLETED,
            credits_estimated=Decimal("1.5"),
            credits_charged=Decimal("1.5"),
            images_delivered=1,
        )
        for i in range(200)
    ]
    made = Generation.objects.bulk_create(rows)
    GeneratedImage.objects.bulk_create(
        GeneratedImage(
            generation=row,
            index=0,
            file="a.png",
            thumbnail="a.webp",
            content_type="image/png",
            width=1,
            height=1,
            bytes=1,
            sha256="0" * 64,
        )
        for row in made
    )
    totals.rebuild(team)  # rows loaded in bulk are counted by a rebuild, as the data migration counts them
    with django_assert_max_num_queries(8):
        page = get_page(owner_client)
    assert figure(page, "generations") == "200"
    assert figure(page, "images") == "200"
    assert figure(page, "charged") == "300"
    with django_assert_max_num_queries(6):
        assert len(csv_rows(owner_client.get(CSV, {"month": "2025-11"}))) == 1 + 60


def test_month_usage_sums_in_the_database(team, owner, django_assert_num_queries, november):
    with django_assert_num_queries(1):
        usage = month_usage(team, NOVEMBER)
    assert usage.total == Figures(generations=5, images=4, charged=Decimal(6), reserved=Decimal(3))
