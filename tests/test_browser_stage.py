"""The playground's stage in a real browser, on a desktop and on a phone: the result comes
into view after Generate and after choosing a History item, a generation that finishes
while the tab is hidden is told in the tab's title (and a notification, if allowed), and a
prompt over the limit stays as typed."""

import re

import pytest
from playwright.sync_api import expect

from playground.generations.models import Generation, Status

from .browser import signed_in_page
from .conftest import make_generation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def screen(request, browser, live_server, owner):
    context = browser.new_context(viewport=request.param, color_scheme="dark" if request.param is PHONE else "light")
    yield signed_in_page(context, live_server, owner)
    context.close()


# How much of an element shows on screen, not hidden under the sticky header or the docked composer (0 to 1).
SEEN = """selector => {
    const element = document.querySelector(selector);
    if (!element) return 0;
    const box = element.getBoundingClientRect();
    const composer = document.getElementById("composer");
    const docked = getComputedStyle(composer).position === "sticky";
    const bottom = docked ? Math.min(window.innerHeight, composer.getBoundingClientRect().top) : window.innerHeight;
    const header = document.querySelector(".site-header");
    const top = header && getComputedStyle(header).position === "sticky" ? header.getBoundingClientRect().bottom : 0;
    const shown = Math.max(0, Math.min(box.bottom, bottom) - Math.max(box.top, top));
    return box.height ? shown / Math.min(box.height, bottom - top) : 0;
}"""


def comes_into_view(page, selector):
    """Waits until most of the element is on screen (a smooth scroll takes a moment)."""
    page.wait_for_function(f"selector => ({SEEN})(selector) > 0.5", arg=selector)


def scrolled_to_the_bottom(page):
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => window.scrollY > 0 || document.documentElement.scrollHeight <= window.innerHeight")


def test_after_generate_the_result_is_in_view(screen, team, teammate, tracker):
    page = screen
    for _ in range(6):  # a History long enough to scroll the page away from the stage
        make_generation(team, teammate, prompt="an earlier one", status=Status.COMPLETED, progress=100)
    page.reload()
    scrolled_to_the_bottom(page)
    page.get_by_label("Prompt").fill("a lighthouse on a cliff")
    page.get_by_role("button", name="Generate").click()

    expect(page.locator("#result .placeholder, #result .result-images img").first).to_be_visible()
    comes_into_view(page, "#result .result-images")
    expect(page.locator("#result .result-images img")).to_have_count(1, timeout=30_000)
    comes_into_view(page, "#result .result-images img")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_older_history_item_comes_onto_the_stage_in_view(screen, team, owner, teammate):
    from .finished import finished_generation

    older = finished_generation(team, teammate, prompt="an older lighthouse", size="2:3")
    for number in range(8):
        finished_generation(team, owner, prompt=f"a newer boat {number}")
    page = screen
    page.reload()
    link = page.get_by_role("link", name="an older lighthouse", exact=True)
    link.scroll_into_view_if_needed()
    link.click()

    expect(page.locator("#result .result-prompt")).to_have_text("an older lighthouse")
    expect(link).to_have_attribute("aria-current", "true")
    comes_into_view(page, "#result .result-images img")
    assert f"?g={older.public_id}" in page.url
    # Who made it, for the eye and for a screen reader.
    row = page.locator("#history .history-item").filter(has_text="an older lighthouse")
    expect(row.locator(".history-avatar")).to_have_text("T")
    expect(row).to_contain_text("by tom")


HIDE = """hidden => {
    Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
    Object.defineProperty(document, "visibilityState", {value: hidden ? "hidden" : "visible", configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""

# Records the notifications the page shows, as the browser would show them.
RECORD_NOTIFICATIONS = """
    window.shownNotifications = [];
    const Shown = window.Notification;
    window.Notification = class extends Shown {
        constructor(title, options) { super(title, options); window.shownNotifications.push([title, options.body]); }
    };
"""


def test_a_generation_of_mine_finishing_in_a_hidden_tab_is_told_in_the_title_and_a_notification(
    browser, live_server, team, owner, teammate
):
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["notifications"])
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = signed_in_page(context, live_server, owner)
    mine = make_generation(team, owner, prompt="my red kite", status=Status.PROCESSING, progress=40)
    theirs = make_generation(team, teammate, prompt="their blue kite", status=Status.PROCESSING, progress=40)
    page.reload()
    title = page.title()
    page.get_by_role("button", name="Notify me").click()
    expect(page.get_by_role("button", name="Notify me")).to_have_attribute("aria-pressed", "true")

    page.evaluate(HIDE, True)
    Generation.objects.filter(pk=theirs.pk).update(status=Status.COMPLETED, progress=100)
    expect(page.locator("#history-summary")).to_have_text("1 running · 1 completed")  # still polling
    assert page.title() == title  # a teammate's work is not the person's news

    Generation.objects.filter(pk=mine.pk).update(status=Status.COMPLETED, progress=100)
    expect(page).to_have_title(f"(1) done · {title}")
    assert page.evaluate("window.shownNotifications") == [["Completed", "my red kite"]]

    page.evaluate(HIDE, False)
    expect(page).to_have_title(title)
    context.close()


def test_a_prompt_over_the_limit_stays_as_typed_and_generate_explains(screen):
    page = screen
    prompt = page.get_by_label("Prompt")
    prompt.fill("x" * 2010)

    expect(prompt).to_have_value("x" * 2010)  # nothing cut
    counter = page.locator("#prompt-counter")
    expect(counter).to_have_text("2010 / 2000")
    explanation = page.locator("#prompt-over")
    expect(explanation).to_have_text("Too long by 10 characters: shorten the prompt to 2000 to generate.")
    red = explanation.evaluate("e => getComputedStyle(e).color")
    assert counter.evaluate("e => getComputedStyle(e).color") == red  # the counter turns red too
    generate = page.get_by_role("button", name="Generate")
    assert generate.evaluate("b => b.getAttribute('aria-describedby')") == "prompt-over"

    generate.click()
    expect(page.locator("#prompt-error")).to_have_text("The prompt is too long: at most 2000 characters (it has 2010).")
    expect(prompt).to_have_value("x" * 2010)
    expect(prompt).to_have_attribute("aria-invalid", "true")
    expect(counter).to_be_visible()
    expect(counter).to_have_text("2010 / 2000")
    assert not Generation.objects.exists()

    prompt.press("End")
    for _ in range(10):
        prompt.press("Backspace")
    expect(page.locator("#prompt-error")).to_have_count(0)  # valid again: the error goes
    expect(prompt).not_to_have_attribute("aria-invalid", "true")
    expect(explanation).to_be_empty()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_size_sent_in_pixels_is_chosen_by_shape_under_api_options(page):
    page.get_by_label("Prompt").fill("a wide harbour")
    page.get_by_role("radio", name="3:2 landscape").check()
    page.get_by_text("API options").click()
    page.get_by_role("radio", name="Pixels").check()

    expect(page.get_by_role("radio", name="3:2 landscape")).to_be_hidden()
    expect(page.get_by_role("radio", name="1536 × 1024")).to_be_checked()
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#history-summary")).to_contain_text("1 running")
    assert Generation.objects.get().size == "1536x1024"


def test_the_time_left_counts_down_between_polls(page, team, owner):
    from django.utils import timezone

    make_generation(team, owner, prompt="a slow one", status=Status.PROCESSING, progress=20,
                    estimated_seconds=600, submitted_at=timezone.now())
    page.reload()
    left = page.locator("#result [data-countdown]")
    expect(left).to_have_text(re.compile(r"about (600|599|598) s left"))
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if "/generations/" in request.url else None)

    expect(left).to_have_text(re.compile(r"about 5(8\d|9[0-6]) s left"))  # fewer, with nothing fetched
    assert fetched == []
    expect(page.locator("#result .placeholder")).to_have_css("aspect-ratio", "1 / 1")
