"""A batch's page in a real browser, against the sandbox: its progress line and rows follow
the batch while the page stays open, and the page stops asking once it has finished."""

import pytest
from playwright.sync_api import expect

from playground.batches import preview, runs
from playground.batches.rows import Defaults
from playground.teams.models import Membership

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def test_the_progress_line_moves_to_done_while_the_page_is_open(page, live_server, settings, team, owner, tracker):
    settings.TEAM_TASKS_IN_FLIGHT = 0  # the rows wait in the line until the test lets them out
    checked = preview.from_values(team, "A {{fruit}} on a plate", {"fruit": "pear\nplum\nfig"}, Defaults(size="1:1", n=1))
    batch = runs.start(Membership.objects.get(team=team, user=owner), checked, name="Fruit bowl")

    page.get_by_role("link", name="Batches", exact=True).click()
    page.get_by_role("link", name="Fruit bowl").click()
    line = page.locator("#batch-progress-line")
    expect(line).to_have_text("0 of 3 done · 0 failed · 3 waiting")
    expect(page.locator(".batch-row").first).to_contain_text("waiting (0 ahead)")
    page.evaluate("window.stillTheSamePage = true")

    settings.TEAM_TASKS_IN_FLIGHT = 2  # the tracker now lets them out, two at a time

    expect(line).to_have_text("3 of 3 done · 0 failed · 0 waiting", timeout=60_000)
    expect(page.get_by_role("img", name="Row 1, image 1: A pear on a plate")).to_be_visible()
    expect(page.locator(".batch-row img")).to_have_count(3)
    expect(page.locator("#batch-status")).not_to_have_attribute("hx-trigger", "every 2s")  # it stopped asking
    expect(page.locator("#batch-rows")).not_to_have_attribute("hx-trigger", "every 2s")
    assert page.evaluate("window.stillTheSamePage") is True  # followed in place, not reloaded
    expect(page.locator("#announcer")).to_have_text("3 of 3 done · 0 failed · 0 waiting")  # said to a screen reader
    assert batch.generations.count() == 3

    page.get_by_role("img", name="Row 1, image 1: A pear on a plate").click()  # the rows' images are one gallery
    viewer = page.locator("dialog#lightbox")
    expect(viewer).to_contain_text("A pear on a plate")
    page.keyboard.press("ArrowRight")
    expect(viewer).to_contain_text("A plum on a plate")
