"""A batch in the playground's History panel, in a real browser: one item whose line follows
its rows through the sandbox while the page stays open."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from playground.batches import preview, runs
from playground.batches.rows import Defaults
from playground.teams.models import Membership

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def start_batch(team, user):
    text = "product,surface\nmug,oak\nvase,marble\nlamp,slate\n"
    checked = preview.from_upload(team, "A {{product}} on a {{surface}}", text.encode(), Defaults(size="1:1", n=1))
    return runs.start(Membership.objects.get(team=team, user=user), checked, name="Spring catalogue")


def test_a_running_batch_is_one_item_whose_line_moves_to_all_done(page, team, owner, settings, tracker):
    settings.TEAM_TASKS_IN_FLIGHT = 0  # the rows wait in the team's line until the page is open
    batch = start_batch(team, owner)
    page.reload()
    items = page.locator("#history .history-item")
    expect(items).to_have_count(1)
    item = items.first
    expect(item.locator(".batch-line")).to_have_text("0 of 3 done · 0 failed · 3 waiting")
    expect(page.locator("#history-summary")).to_have_text("1 running · 0 completed")

    settings.TEAM_TASKS_IN_FLIGHT = 4  # the tracker lets them out, and the sandbox makes them

    expect(item.locator(".batch-line")).to_have_text("3 of 3 done · 0 failed · 0 waiting")
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed")
    expect(items).to_have_count(1)
    expect(item.get_by_role("img", name="The latest image of the batch Spring catalogue")).to_be_visible()
    link = item.get_by_role("link", name="Batch Spring catalogue")
    expect(link).to_have_attribute("href", reverse("studio:batch", args=[batch.public_id]))
