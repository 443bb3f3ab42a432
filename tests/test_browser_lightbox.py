"""The lightbox and the compare page in headless Chromium: with images generated through the
page (the first test), and with finished generations made from rows (the rest, which only read).

Every context is watched (see test_browser_teams.Watch): a console error or an uncaught
script error fails the test.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from playground.generations.models import Generation

from .browser import signed_in_page, wait_until
from .finished import finished_generation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


@pytest.fixture
def page(watch, live_server, owner):
    return signed_in_page(watch.new_context(viewport={"width": 1280, "height": 900}), live_server, owner)


def generate_two_images(page, prompt="a lighthouse on a cliff at dawn"):
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_text("2", exact=True).click()
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed", timeout=30_000)
    expect(page.locator("#result .result-images img")).to_have_count(2)
    return list(Generation.objects.get().images.all())


def two_finished_images(page, team, owner, prompt="a lighthouse on a cliff at dawn"):
    """What generate_two_images leaves on the page, from rows: no sandbox task to wait for."""
    generation = finished_generation(team, owner, prompt=prompt, n=2)
    page.reload()
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed")
    expect(page.locator("#result .result-images img")).to_have_count(2)
    return list(generation.images.order_by("index"))


def viewer(page):
    return page.get_by_role("dialog", name="Image viewer")


def full_url(image):
    return reverse("studio:image", args=[image.public_id, "full"])


def expect_showing(page, image, count):
    dialog = viewer(page)
    expect(dialog).to_be_visible()
    expect(dialog.locator(".lightbox-count")).to_have_text(count)
    shown = dialog.get_by_role("img")
    expect(shown).to_have_attribute("src", full_url(image))
    wait_until(lambda: shown.evaluate("img => img.complete && img.naturalWidth") == image.width)


def test_a_result_image_opens_in_the_lightbox_and_the_arrows_step_through_the_results(page, tracker):
    first, second = generate_two_images(page)
    link = page.locator("#result .result-images a").first

    link.click()

    expect_showing(page, first, "1 of 2")
    expect(viewer(page).locator("figcaption")).to_have_text("Image 1 of 2: a lighthouse on a cliff at dawn")
    assert len(page.context.pages) == 1  # no tab opened, no page left
    page.keyboard.press("ArrowRight")
    expect_showing(page, second, "2 of 2")
    expect(viewer(page).locator("figcaption")).to_have_text("Image 2 of 2: a lighthouse on a cliff at dawn")
    page.keyboard.press("ArrowLeft")
    expect_showing(page, first, "1 of 2")

    page.keyboard.press("Escape")

    expect(viewer(page)).to_be_hidden()
    expect(link).to_be_focused()


def test_the_lightbox_works_from_the_keyboard_alone(page, team, owner):
    first, second = two_finished_images(page, team, owner)
    link = page.locator("#result .result-images a").first
    page.get_by_label("Prompt").focus()
    for _ in range(40):  # through the form, into the result
        page.keyboard.press("Tab")
        if link.evaluate("link => link === document.activeElement"):
            break
    expect(link).to_be_focused()

    page.keyboard.press("Enter")

    expect_showing(page, first, "1 of 2")
    expect(viewer(page).get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("End")
    expect_showing(page, second, "2 of 2")
    page.keyboard.press("ArrowRight")  # past the last: back to the first
    expect_showing(page, first, "1 of 2")
    page.keyboard.press("Escape")
    expect(viewer(page)).to_be_hidden()
    expect(link).to_be_focused()


def test_history_thumbnails_open_full_size_in_the_lightbox(page, team, owner):
    first, second = two_finished_images(page, team, owner)
    thumb = page.locator(f"#thumb-{second.public_id}")

    thumb.click()

    expect_showing(page, second, "2 of 2")
    viewer(page).get_by_role("button", name="Previous image").click()
    expect_showing(page, first, "1 of 2")
    viewer(page).get_by_role("button", name="Close").click()
    expect(viewer(page)).to_be_hidden()
    expect(thumb).to_be_focused()


def test_focus_comes_back_to_the_thumbnail_after_a_live_update_replaced_it(page, team, owner):
    _first, second = two_finished_images(page, team, owner)
    page.locator(f"#thumb-{second.public_id}").press("Enter")
    expect(viewer(page)).to_be_visible()
    # What the History panel's poll does: the whole panel is swapped for a fresh copy.
    page.evaluate("() => { const panel = document.getElementById('history'); panel.outerHTML = panel.outerHTML; }")

    page.keyboard.press("Escape")

    expect(viewer(page)).to_be_hidden()
    expect(page.locator(f"#thumb-{second.public_id}")).to_be_focused()


def test_the_compare_page_shows_two_images_side_by_side_and_stacks_them_on_a_phone(page, live_server, team, owner):
    first, second = two_finished_images(page, team, owner)
    page.goto(f"{live_server.url}{reverse('studio:compare')}?image={first.public_id}&image={second.public_id}")
    expect(page.get_by_role("heading", name="Compare images", level=1)).to_be_visible()
    images = page.locator(".compare-grid img")
    expect(images).to_have_count(2)

    left, right = images.nth(0).bounding_box(), images.nth(1).bounding_box()
    assert abs(left["y"] - right["y"]) < 1  # one row
    assert right["x"] >= left["x"] + left["width"]

    images.nth(1).click()
    expect_showing(page, second, "2 of 2")
    page.keyboard.press("Escape")

    page.set_viewport_size({"width": 390, "height": 844})
    top, below = images.nth(0).bounding_box(), images.nth(1).bounding_box()
    assert below["y"] >= top["y"] + top["height"]  # stacked
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
