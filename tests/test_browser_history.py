"""The History page in a real browser: search, filter, go back, open a generation, run it
again, and find the new one at the top of the playground's History panel."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from playground.generations.models import Generation, Status

from .conftest import make_generation
from .finished import stored_image

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


@pytest.fixture
def archive(team, owner, teammate):
    now = timezone.now()
    for days, prompt, size, user in [
        (1, "a lighthouse at dawn, watercolour", "3:2", owner),
        (2, "a lighthouse in a storm", "1:1", teammate),
        (3, "a red bicycle by the sea", "3:2", owner),
    ]:
        make_generation(team, user, prompt=prompt, size=size, status=Status.COMPLETED, progress=100,
                        created_at=now - timedelta(days=days))


def shown(page):
    return page.locator("#results .gallery-prompt")


def test_search_filter_open_rerun_and_find_it_at_the_top_of_the_history_panel(page, archive, tracker):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.get_by_role("link", name="History", exact=True).click()
    expect(shown(page)).to_have_count(3)

    page.get_by_label("Search prompts").fill("lighthouse")
    expect(shown(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=lighthouse"))

    page.locator("summary.filters-toggle").click()  # the filters are folded until asked for
    page.get_by_label("Size").select_option("3:2")
    expect(page.locator("#filter-count")).to_contain_text("1 active")
    expect(shown(page)).to_have_text(["a lighthouse at dawn, watercolour"])
    expect(page).to_have_url(re.compile(r"size=3%3A2"))

    page.go_back()  # the filter before, restored from the address
    expect(page).to_have_url(re.compile(r"/generations/\?q=lighthouse$"))  # no empty fields in it
    expect(shown(page)).to_have_count(2)
    page.go_forward()
    expect(shown(page)).to_have_text(["a lighthouse at dawn, watercolour"])

    page.get_by_role("link", name=re.compile("a lighthouse at dawn, watercolour")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Generation")
    expect(page.locator("main")).to_contain_text("a lighthouse at dawn, watercolour")
    expect(page.locator("main")).to_contain_text("olivia")

    page.get_by_role("link", name="Re-run").click()
    expect(page.get_by_label("Prompt")).to_have_value("a lighthouse at dawn, watercolour")
    expect(page.get_by_role("radio", name="3:2 landscape")).to_be_checked()
    page.get_by_role("button", name="Generate").click()

    first = page.locator("#history .history-item").first
    expect(first.locator(".history-prompt")).to_have_text("a lighthouse at dawn, watercolour")
    expect(first).to_contain_text("Completed", timeout=30_000)
    assert errors == []


def test_typing_a_search_keeps_every_letter_and_the_focus(page, live_server, team, owner):
    for number in range(3):
        make_generation(team, owner, prompt=f"a paper boat {number}")
    make_generation(team, owner, prompt="a mountain cabin")
    page.goto(f"{live_server.url}/generations/")
    search = page.get_by_label("Search prompts")
    search.press_sequentially("paper boat", delay=120)  # slower than a result swap, so some arrive mid-word
    expect(shown(page)).to_have_count(3)
    expect(search).to_have_value("paper boat")
    expect(search).to_be_focused()


def test_older_moves_focus_to_the_results(page, live_server, team, owner):
    now = timezone.now()
    for number in range(50):
        make_generation(team, owner, prompt=f"poster {number}", created_at=now - timedelta(minutes=number))
    page.goto(f"{live_server.url}/generations/")
    page.get_by_role("link", name="Older").click()
    expect(shown(page)).to_have_count(2)
    expect(page.get_by_role("heading", name="All generations")).to_be_focused()


HIDE_TAB = """() => {
  Object.defineProperty(document, "hidden", {value: true, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
  window.polls = 0;
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.hasAttribute("data-poll")) window.polls += 1;
  });
}"""
SHOW_TAB = """() => {
  delete document.hidden;
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_running_tile_turns_into_its_image_once_visible_without_a_reload(page, live_server, team, owner):
    running = make_generation(team, owner, prompt="a paper boat at dusk", status=Status.PROCESSING, progress=30)
    make_generation(team, owner, prompt="a kite over the dunes", status=Status.COMPLETED, progress=100)
    page.goto(f"{live_server.url}/generations/")
    tile = page.locator(f"#tile-{running.public_id}")
    expect(tile.locator(".tile-running")).to_be_visible()
    tile.locator(".gallery-select").check()  # a choice made meanwhile stays made

    Generation.objects.filter(pk=running.pk).update(progress=60)
    expect(tile).to_contain_text("Generating · 60%")

    tile_requests = []
    page.on("request", lambda request: tile_requests.append(request.url) if "/tile" in request.url else None)
    page.evaluate(HIDE_TAB)
    stored_image(running, 0)
    Generation.objects.filter(pk=running.pk).update(status=Status.COMPLETED, progress=100, images_delivered=1)
    page.wait_for_function("() => window.polls >= 2")  # two turns of the poll, both held back
    assert tile_requests == []
    expect(tile.locator(".tile-running")).to_be_visible()

    page.evaluate(SHOW_TAB)
    expect(tile.get_by_role("img", name="First image of: a paper boat at dusk")).to_be_visible()
    expect(tile).to_contain_text("Completed")
    expect(tile.locator(".gallery-select")).to_be_checked()
    expect(page.locator("[data-poll]")).to_have_count(0)  # nothing runs: nothing polls


def test_a_running_tile_whose_generation_was_deleted_leaves_the_page_and_stops_asking(page, live_server, team, owner):
    running = make_generation(team, owner, prompt="a paper boat at dusk", status=Status.PROCESSING, progress=30)
    page.goto(f"{live_server.url}/generations/")
    tile = page.locator(f"#tile-{running.public_id}")
    expect(tile.locator(".tile-running")).to_be_visible()

    tile_requests = []
    page.on("request", lambda request: tile_requests.append(request.url) if "/tile" in request.url else None)
    running.delete()  # by a teammate, on its details page
    expect(tile).to_have_count(0)
    asked = len(tile_requests)
    page.wait_for_timeout(2500)  # another turn of the poll
    assert len(tile_requests) == asked == 1
