"""The prompt library from the composer, in headless Chromium: save the prompt being written,
find it again by searching, and put it back into the composer with the keyboard alone."""

import pytest
from playwright.sync_api import expect

from playground.library.models import SavedPrompt

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = "A {{product}} on a {{surface}}, soft studio light"


def test_a_prompt_saved_from_the_composer_is_found_and_inserted_by_keyboard(page):
    prompt = page.locator("#id_prompt")
    prompt.fill(TEMPLATE)
    page.get_by_role("button", name="Save prompt").click()
    dialog = page.get_by_role("dialog", name="Save the prompt in the library")
    expect(dialog.get_by_label("Prompt")).to_have_value(TEMPLATE)
    expect(dialog.get_by_label("Title")).to_be_focused()

    dialog.get_by_role("button", name="Save").click()  # no title yet
    expect(dialog.locator("#title-error")).to_have_text("Give the prompt a title, to find it again.")
    assert not SavedPrompt.objects.exists()

    dialog.get_by_label("Title").fill("Product on a surface")
    dialog.get_by_label("Tags").fill("product, studio")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_contain_text("Saved “Product on a surface” in the team's library.")
    expect(dialog.get_by_role("button", name="Done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()

    prompt.fill("")
    # Keyboard only from here: to the Library button, open it, search, go down, insert.
    page.get_by_role("button", name="Library").focus()
    page.keyboard.press("Enter")
    picker = page.get_by_role("dialog", name="Insert a prompt from the library")
    search = picker.get_by_role("searchbox")
    expect(search).to_be_focused()
    page.keyboard.type("studio product")
    result = picker.get_by_role("button", name="Product on a surface")
    expect(result).to_be_visible()
    expect(picker.locator(".variable-chip")).to_have_text(["{{product}}", "{{surface}}"])
    page.keyboard.press("ArrowDown")
    expect(result).to_be_focused()
    page.keyboard.press("Enter")

    expect(picker).to_be_hidden()
    expect(prompt).to_have_value(TEMPLATE)
    expect(prompt).to_be_focused()
    expect(page.locator("#prompt-counter")).to_have_text(f"{len(TEMPLATE)} / 2000")
    blanks = page.locator("#template-note")
    expect(blanks).to_have_text("A template: fill in {{product}} {{surface}}")
    saved = SavedPrompt.objects.get()
    expect(page.locator(".htmx-request")).to_have_count(0)
    saved.refresh_from_db()
    assert saved.last_used_at is not None and saved.tag_list == ["product", "studio"]

    prompt.fill("A red bottle on a marble surface, soft studio light")
    expect(blanks).to_be_hidden()


def test_a_search_that_finds_nothing_says_so(page):
    page.get_by_role("button", name="Library").click()
    picker = page.get_by_role("dialog", name="Insert a prompt from the library")
    expect(picker).to_contain_text("The library is empty.")
    picker.get_by_role("searchbox").fill("submarine")
    expect(picker).to_contain_text("Nothing in the library matches.")
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(page.get_by_role("button", name="Library")).to_be_focused()
