"""The actions on an image, in headless Chromium at 1440 × 900 and 390 × 844 (a touch phone):
from the mouse and from the keyboard, on the playground, the details page, the History page
and in the lightbox, with the lineage they leave behind.

Every context is watched (see tests/browser.py): a console error or an uncaught script
error fails the test.
"""

import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from playwright.sync_api import expect

from playground.generations.models import Generation

from .browser import signed_in_page
from .test_image_actions import PROMPT, two_results

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

SCREENS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(params=SCREENS)
def screen(request):
    return request.param


@pytest.fixture
def made(team, owner):
    return two_results(team, owner)


@pytest.fixture
def page(watch, live_server, owner, screen):
    context = watch.new_context(**SCREENS[screen], permissions=["clipboard-read", "clipboard-write"])
    return signed_in_page(context, live_server, owner)


def open_on_playground(page, live_server, generation):
    page.goto(f"{live_server.url}{reverse('studio:playground')}?g={generation.public_id}")
    expect(page.locator("#result .result-images img")).to_have_count(generation.n)


def bar(page, number=1, scope="#result"):
    return page.locator(scope).get_by_role("group", name=f"Actions for image {number}")


def stored_bytes(image):
    with default_storage.open(image.file.name) as stored:
        return stored.read()


def viewer(page):
    return page.get_by_role("dialog", name="Image viewer")


def tab_to(page, target, limit=80):
    """Tab through the page until `target` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError("never reached by Tab")


def test_download_gives_the_image_under_its_useful_name_from_mouse_and_keyboard(page, live_server, made, screen):
    second = made.images.get(index=1)
    open_on_playground(page, live_server, made)
    download = bar(page, 2).get_by_role("link", name="Download image 2")

    with page.expect_download() as clicked:
        download.click()
    with page.expect_download() as pressed:
        tab_to(page, download)
        page.keyboard.press("Enter")

    for got in (clicked.value, pressed.value):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d-a-red-bicycle-leaning-on-a-blue-wall-2\.png", got.suggested_filename)
        with open(got.path(), "rb") as saved:
            assert saved.read() == stored_bytes(second)


def test_the_bar_shows_on_hover_and_focus_on_a_desktop_and_always_on_a_phone(page, live_server, made, screen):
    open_on_playground(page, live_server, made)
    actions = bar(page, 1)
    opacity = lambda: float(actions.evaluate("element => getComputedStyle(element).opacity"))  # noqa: E731

    if screen == "phone":
        assert opacity() == 1
        return
    page.mouse.move(0, 0)
    assert opacity() == 0
    page.locator("#result .result-images li").first.hover()
    expect(actions).to_have_css("opacity", "1")
    page.mouse.move(0, 0)
    tab_to(page, actions.get_by_role("link", name="Download image 1"))
    expect(actions).to_have_css("opacity", "1")


def test_open_large_shows_the_lightbox_with_the_prompt_and_actions_and_esc_returns(page, live_server, made, screen):
    open_on_playground(page, live_server, made)
    opener = bar(page, 2).get_by_role("link", name="Open image 2 large")

    opener.click()

    dialog = viewer(page)
    expect(dialog).to_be_visible()
    expect(dialog.locator(".lightbox-count")).to_have_text("2 of 2")
    panel = dialog.get_by_role("region", name="About this image")
    expect(panel.get_by_text(PROMPT)).to_be_visible()
    expect(panel.get_by_role("link", name="Download image 2")).to_be_visible()
    expect(panel.get_by_role("button", name=re.compile("^Vary image 2"))).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    tab_to(page, opener)
    page.keyboard.press("Enter")
    expect(dialog.locator(".lightbox-count")).to_have_text("2 of 2")
    for _ in range(25):  # focus stays inside the viewer
        page.keyboard.press("Tab")
        assert dialog.evaluate("dialog => dialog.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(opener).to_be_focused()


def test_a_swipe_steps_through_the_images_in_the_lightbox(page, live_server, made, screen):
    open_on_playground(page, live_server, made)
    page.locator("#result .result-images a[data-lightbox]").first.click()
    dialog = viewer(page)
    expect(dialog.locator(".lightbox-count")).to_have_text("1 of 2")
    expect(dialog.get_by_role("region", name="About this image").get_by_role("link", name="Download image 1")).to_be_visible()

    swipe = """([from, to]) => {
      const stage = document.querySelector('.lightbox-stage');
      const at = (type, x) => stage.dispatchEvent(new PointerEvent(type, {pointerType: 'touch', clientX: x, clientY: 300, bubbles: true}));
      at('pointerdown', from); at('pointerup', to);
    }"""
    page.evaluate(swipe, [300, 100])  # to the left: the next image
    expect(dialog.locator(".lightbox-count")).to_have_text("2 of 2")
    expect(dialog.get_by_role("region", name="About this image").get_by_role("link", name="Download image 2")).to_be_visible()
    page.evaluate(swipe, [100, 300])
    expect(dialog.locator(".lightbox-count")).to_have_text("1 of 2")
    page.evaluate(swipe, [300, 290])  # a tap, not a swipe
    expect(dialog.locator(".lightbox-count")).to_have_text("1 of 2")
    expect(dialog).to_be_visible()


def test_use_as_reference_and_edit_a_region_fill_the_composer(page, live_server, made, screen):
    open_on_playground(page, live_server, made)
    references = page.locator("#references-field .reference-item")

    bar(page, 1).get_by_role("button", name="Use image 1 as a reference").click()
    expect(references).to_have_count(1)
    expect(page.locator("#announcer")).to_have_text("Added to the reference images")
    expect(references).to_be_in_viewport()
    expect(page.locator("#references-field [data-open-on-load]")).to_have_count(0)

    tab_to(page, bar(page, 2).get_by_role("button", name="Edit a region of image 2"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Paint the area to change")).to_be_visible()
    expect(references).to_have_count(1)  # a region is edited on this one image alone
    assert references.locator("img").get_attribute("alt").startswith("Reference 1: ")


def test_edit_a_region_from_the_lightbox_on_the_details_page_leads_to_the_painter(page, live_server, made, screen):
    page.goto(f"{live_server.url}{reverse('studio:generation-detail', args=[made.public_id])}")
    page.locator(".detail-images a[data-lightbox]").nth(1).click()
    panel = viewer(page).get_by_role("region", name="About this image")

    panel.get_by_role("link", name="Edit a region of image 2").click()

    expect(page.get_by_role("heading", name="Create images")).to_be_visible()
    expect(page.get_by_role("dialog", name="Paint the area to change")).to_be_visible()


def test_favourite_and_copy_prompt_from_mouse_and_keyboard(page, live_server, made, owner, screen):
    open_on_playground(page, live_server, made)
    stars = page.locator("#result").get_by_role("button", name="Favourite")

    stars.first.click()
    expect(stars.nth(0)).to_have_attribute("aria-pressed", "true")
    expect(stars.nth(1)).to_have_attribute("aria-pressed", "true")  # the generation's star, on each of its images
    assert made.favourited_by.filter(pk=owner.pk).exists()
    tab_to(page, stars.nth(1))
    page.keyboard.press("Space")
    expect(stars.nth(0)).to_have_attribute("aria-pressed", "false")
    assert not made.favourited_by.exists()

    copy = bar(page, 1).get_by_role("button", name="Copy the prompt")
    copy.click()
    expect(page.locator("#announcer")).to_have_text("Prompt copied")
    assert page.evaluate("navigator.clipboard.readText()") == PROMPT
    page.evaluate("navigator.clipboard.writeText('')")
    tab_to(page, copy)
    page.keyboard.press("Enter")
    page.wait_for_function("async () => (await navigator.clipboard.readText()).length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == PROMPT


def test_a_favourite_starred_on_the_history_page_is_found_by_its_filter(page, live_server, made, team, owner, screen):
    two_results(team, owner, prompt="a green kite over the dunes")
    page.goto(f"{live_server.url}{reverse('studio:generations')}")
    tile = page.locator(".gallery-item").filter(has_text="a red bicycle")
    tile.get_by_role("group", name="Actions for image 1").get_by_role("button", name="Favourite").click()
    expect(tile.locator("#favourite-" + str(made.public_id))).to_have_attribute("aria-pressed", "true")

    page.goto(f"{live_server.url}{reverse('studio:generations')}?favourites=on")

    expect(page.locator(".gallery-item")).to_have_count(1)
    expect(page.locator(".gallery-item")).to_contain_text("a red bicycle")


@pytest.mark.usefixtures("tracker")
def test_vary_from_the_lightbox_makes_a_generation_that_links_to_its_source_both_ways(page, live_server, made, screen):
    second = made.images.get(index=1)
    open_on_playground(page, live_server, made)
    page.locator("#result .result-images a[data-lightbox]").nth(1).click()
    panel = viewer(page).get_by_role("region", name="About this image")

    panel.get_by_role("button", name=re.compile("^Vary image 2")).click()

    expect(page.locator("#result")).to_have_attribute("data-generation", re.compile(".+"))
    varied = Generation.objects.exclude(pk=made.pk).get()
    assert [reference.sha256 for reference in varied.ordered_references()] == [second.sha256]
    expect(page.locator("#result .result-images img")).to_have_count(varied.n, timeout=30_000)
    page.locator("#result .result-images a[data-lightbox]").first.click()
    made_from = viewer(page).get_by_role("region", name="About this image").get_by_role("link", name=re.compile("Image 2 of “a red bicycle"))
    expect(made_from).to_be_visible()

    made_from.click()

    expect(page).to_have_url(re.compile(rf"/generations/{made.public_id}/details#image-{second.public_id}$"))
    lineage = page.get_by_role("region", name="Lineage")
    expect(lineage.get_by_role("link", name=re.compile(re.escape(PROMPT)))).to_have_attribute(
        "href", reverse("studio:generation-detail", args=[varied.public_id])
    )


def test_vary_over_the_budget_says_why_and_sends_nothing(page, live_server, made, team, screen):
    team.monthly_budget = 1
    team.save(update_fields=["monthly_budget"])
    page.goto(f"{live_server.url}{reverse('studio:generation-detail', args=[made.public_id])}")

    bar(page, 1, ".detail-images").get_by_role("button", name=re.compile("^Vary image 1")).click()

    expect(page.get_by_text("This needs 3 credits, but the team's monthly budget has 1 of 1 credits left.")).to_be_visible()
    assert page.url.endswith(reverse("studio:generation-detail", args=[made.public_id]))
    assert Generation.objects.count() == 1
