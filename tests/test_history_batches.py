"""A batch in the History panel: one item for all its rows, placed by when it started, with its
name, template, who started it and a live line of its progress."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from playground.batches import preview, runs
from playground.batches.models import Batch
from playground.batches.rows import Defaults
from playground.generations.models import Generation, Status
from playground.studio import history_panel
from playground.teams.models import Membership

from .conftest import make_generation
from .finished import stored_image

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TEMPLATE = "A {{product}} on a {{surface}}, soft studio light"


@pytest.fixture(autouse=True)
def nothing_let_out(settings):
    """Every row waits in the line: nothing is sent in these tests."""
    settings.TEAM_TASKS_IN_FLIGHT = 0


def start_batch(team, user, rows, name="Spring catalogue", broken=0):
    """A batch of `rows` ready rows (and `broken` rows skipped for their problems), as the page starts one."""
    lines = [f"item {number},oak,1" for number in range(rows)] + ["broken,oak,7"] * broken
    text = "product,surface,n\n" + "\n".join(lines) + "\n"
    checked = preview.from_upload(team, TEMPLATE, text.encode(), Defaults(size="1:1", n=1))
    membership = Membership.objects.get(team=team, user=user)
    return runs.start(membership, checked, name=name, skip_problems=bool(broken))


def set_statuses(batch, **counts):
    """Give the batch's rows these statuses, in row order (the rest keep waiting)."""
    pks = list(batch.generations.order_by("pk").values_list("pk", flat=True))
    for status, count in counts.items():
        chosen, pks = pks[:count], pks[count:]
        Generation.objects.filter(pk__in=chosen).update(status=status)


def panel(client):
    return client.get(reverse("studio:history"), **HTMX)


def version_of(response):
    return response.content.decode().split('"v": "')[1].split('"')[0]


def test_a_batch_of_120_rows_is_one_item_placed_by_when_it_started(owner_client, team, owner):
    before = make_generation(team, owner, prompt="a lighthouse at dusk", status=Status.COMPLETED)
    batch = start_batch(team, owner, 120)
    after = make_generation(team, owner, prompt="a red bicycle on a wall", status=Status.COMPLETED)

    html = panel(owner_client).content.decode()

    assert html.count('class="history-item') == 3
    assert html.count(f'href="{reverse("studio:batch", args=[batch.public_id])}"') == 1
    assert "A item 7 on a oak" not in html  # no row is listed on its own
    assert html.index(after.prompt) < html.index("Spring catalogue") < html.index(before.prompt)
    assert TEMPLATE in html
    assert ">O</span>" in html  # who started it, by initials


def test_its_line_counts_the_rows_by_their_status(owner_client, team, owner):
    batch = start_batch(team, owner, 120)
    set_statuses(batch, completed=37, failed=2)

    html = panel(owner_client).content.decode()

    assert "37 of 120 done · 2 failed · 81 waiting<" in html
    assert "cancelled" not in html and "skipped" not in html
    assert 'max="120" value="39"' in html  # the bar: the rows settled so far


def test_cancelled_and_skipped_rows_are_said_only_when_there_are_some(owner_client, team, owner):
    batch = start_batch(team, owner, 5, broken=2)
    set_statuses(batch, completed=2, expired=1, cancelled=2)

    assert "2 of 5 done · 1 failed · 0 waiting · 2 cancelled · 2 skipped<" in panel(owner_client).content.decode()


def test_the_fingerprint_changes_when_a_row_completes(owner_client, team, owner):
    batch = start_batch(team, owner, 4)
    first = panel(owner_client)
    assert first.status_code == 200  # it polls while rows wait
    assert "every 2s" in first.content.decode()
    unchanged = owner_client.get(reverse("studio:history"), {"v": version_of(first)}, **HTMX)
    assert unchanged.status_code == 204

    set_statuses(batch, completed=1)
    changed = owner_client.get(reverse("studio:history"), {"v": version_of(first)}, **HTMX)

    assert changed.status_code == 200
    assert "1 of 4 done · 0 failed · 3 waiting" in changed.content.decode()


def test_a_finished_batch_stops_the_polling_and_shows_its_latest_image(owner_client, team, owner):
    batch = start_batch(team, owner, 3)
    set_statuses(batch, completed=3)
    latest = stored_image(batch.generations.order_by("pk").last(), 0)

    response = panel(owner_client)

    html = response.content.decode()
    assert response.status_code == 286
    assert "3 of 3 done · 0 failed · 0 waiting" in html
    assert reverse("studio:image", args=[latest.public_id, "thumb"]) in html
    assert "The latest image of the batch Spring catalogue" in html


def test_the_line_at_the_top_counts_a_running_batch_as_running(owner_client, team, owner):
    make_generation(team, owner, status=Status.COMPLETED)
    start_batch(team, owner, 30)
    html = panel(owner_client).content.decode()
    assert "1 running · 1 completed" in html

    finished = start_batch(team, owner, 2, name="Finished")
    set_statuses(finished, completed=1, failed=1)
    Batch.objects.filter(pk=finished.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert "1 running · 2 completed" in panel(owner_client).content.decode()


def test_a_teammate_sees_the_batch_and_another_team_does_not(client, team, owner, teammate, outsider):
    start_batch(team, owner, 3)

    client.force_login(teammate)
    assert "Spring catalogue" in panel(client).content.decode()
    client.force_login(outsider)
    html = panel(client).content.decode()
    assert "Spring catalogue" not in html and "0 running · 0 completed" in html


def test_the_panel_size_counts_items_not_rows(owner_client, team, owner, settings):
    settings.HISTORY_PANEL_SIZE = 3
    for number in range(3):
        make_generation(team, owner, prompt=f"single number {number}", status=Status.COMPLETED)
    start_batch(team, owner, 10)

    html = panel(owner_client).content.decode()

    assert html.count('class="history-item') == 3
    assert "Spring catalogue" in html and "single number 2" in html and "single number 1" in html
    assert "single number 0" not in html


def test_an_older_batch_gives_way_to_newer_singles(owner_client, team, owner, settings):
    settings.HISTORY_PANEL_SIZE = 2
    start_batch(team, owner, 10, name="Old batch")
    Batch.objects.update(created_at=timezone.now() - timedelta(days=1))
    make_generation(team, owner, prompt="single one", status=Status.COMPLETED)
    make_generation(team, owner, prompt="single two", status=Status.COMPLETED)

    html = panel(owner_client).content.decode()

    assert "Old batch" not in html and "single one" in html and "single two" in html


def queries(team):
    with CaptureQueriesContext(connection) as fingerprint:
        history_panel.history_version(team)
    with CaptureQueriesContext(connection) as context:
        history_panel.history_context(team)
    return len(fingerprint), len(context)


def test_the_queries_do_not_grow_with_the_size_of_a_batch(team, owner):
    make_generation(team, owner, status=Status.COMPLETED)
    small = start_batch(team, owner, 2, name="Small")
    set_statuses(small, completed=1)
    few = queries(team)

    big = start_batch(team, owner, 120, name="Big")
    set_statuses(big, completed=60, failed=5)
    for generation in big.generations.filter(status=Status.COMPLETED)[:10]:
        stored_image(generation, 0)

    assert queries(team) == few
    assert few[0] == 2  # the fingerprint: the singles, and the batches' progress


def test_the_history_page_lists_each_row_with_a_chip_to_its_batch(owner_client, team, owner):
    batch = start_batch(team, owner, 3)
    make_generation(team, owner, prompt="a single lighthouse", status=Status.COMPLETED)

    html = owner_client.get(reverse("studio:generations")).content.decode()

    assert html.count('class="gallery-item') == 4
    assert "A item 0 on a oak" in html and "A item 2 on a oak" in html
    chip = f'<a class="batch-chip" href="{reverse("studio:batch", args=[batch.public_id])}"'
    assert html.count(chip) == 3
    assert html.count("Batch: Spring catalogue") == 3


def test_the_history_page_filters_by_whether_a_batch_made_it(owner_client, team, owner):
    start_batch(team, owner, 2)
    make_generation(team, owner, prompt="a single lighthouse", status=Status.COMPLETED)
    url = reverse("studio:generations")

    only = owner_client.get(url, {"batch": "only"}).content.decode()
    none = owner_client.get(url, {"batch": "none"}).content.decode()
    refused = owner_client.get(url, {"batch": "maybe"})

    assert "A item 0 on a oak" in only and "a single lighthouse" not in only
    assert "A item 0 on a oak" not in none and "a single lighthouse" in none
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_the_details_of_a_row_say_its_batch_row_and_values(owner_client, team, owner):
    batch = start_batch(team, owner, 3)
    generation = batch.rows.get(number=3).generation

    html = owner_client.get(reverse("studio:generation-detail", args=[generation.public_id])).content.decode()

    assert f'href="{reverse("studio:batch", args=[batch.public_id])}"' in html
    assert "Spring catalogue" in html and "Row 3" in html
    assert "<dt>product</dt><dd class=\"breakable\">item 1</dd>" in html
    assert "<dt>surface</dt><dd class=\"breakable\">oak</dd>" in html


def test_an_earlier_attempt_of_a_retried_row_still_names_its_row(owner_client, team, owner):
    batch = start_batch(team, owner, 2)
    failed = batch.rows.get(number=2).generation
    Generation.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    assert runs.retry_failed(Membership.objects.get(team=team, user=owner), batch) == 1

    html = owner_client.get(reverse("studio:generation-detail", args=[failed.public_id])).content.decode()

    assert "Row 2" in html and "<dd class=\"breakable\">item 0</dd>" in html


def test_a_single_generation_names_no_batch(owner_client, team, owner):
    single = make_generation(team, owner, status=Status.COMPLETED)
    html = owner_client.get(reverse("studio:generation-detail", args=[single.public_id])).content.decode()
    assert "batch-chip" not in html and 'id="batch-title"' not in html
