"""The mask painter and Show as code dialogs, in headless Chromium.

(The painter's mask through Generate and strict mask: tests/test_browser.py.)
"""

import pytest
from playwright.sync_api import expect

from .browser import signed_in_page
from .images import image_bytes
from .painter import OPEN, drag, mask_files, open_painter, painted, painted_at, painter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

TEAM_KEY = "sk-evo-team-secret-0123456789abcdef"


def add_reference(page, size=(1024, 1024)):
    page.locator("#id_images").set_input_files(
        {"name": "street.png", "mimeType": "image/png", "buffer": image_bytes(size=size)}
    )
    expect(page.get_by_role("button", name=OPEN)).to_be_visible()


def test_undo_redo_and_clear_in_the_painter(page):
    add_reference(page)
    dialog = open_painter(page)
    canvas = dialog.locator("canvas")
    undo, redo = dialog.get_by_role("button", name="Undo"), dialog.get_by_role("button", name="Redo")
    expect(undo).to_be_disabled()
    drag(page, canvas, (0.2, 0.2), (0.4, 0.3))
    stroke = painted(canvas)
    assert stroke > 0
    undo.click()
    assert painted(canvas) == 0
    expect(undo).to_be_disabled()
    redo.click()
    assert painted(canvas) == stroke
    expect(redo).to_be_disabled()
    dialog.get_by_role("button", name="Clear").click()
    assert painted(canvas) == 0
    undo.click()
    assert painted(canvas) == stroke
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#mask-preview img.mask-overlay")).to_be_visible()
    assert mask_files(page) == ["painted-mask.png"]


def test_the_brush_size_is_shown_and_its_outline_follows_the_pointer_at_that_size(page):
    add_reference(page)
    dialog = open_painter(page)
    size = dialog.get_by_label("Brush size")
    size.fill("120")
    expect(dialog.locator("output")).to_have_text("120 px")
    box = dialog.locator("canvas").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 150)
    outline = dialog.locator("[data-mask-outline]").bounding_box()
    assert round(outline["width"]) == 120 == round(outline["height"])
    assert abs(outline["x"] + 60 - (box["x"] + 200)) < 2 and abs(outline["y"] + 60 - (box["y"] + 150)) < 2


def test_cancel_and_escape_keep_the_mask_as_it_was(page):
    add_reference(page)
    dialog = open_painter(page)
    drag(page, dialog.locator("canvas"), (0.2, 0.2), (0.4, 0.3))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert mask_files(page) == []
    expect(page.locator("#mask-preview img")).to_have_count(0)

    dialog = open_painter(page)
    canvas = page.locator("[data-mask-canvas]")  # found open or closed
    assert painted(canvas) == 0  # what was cancelled is gone
    drag(page, canvas, (0.6, 0.6), (0.7, 0.7))
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("#mask-preview img.mask-overlay")).to_be_visible()
    kept = painted(canvas)

    open_painter(page)
    dialog.get_by_role("button", name="Clear").click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert painted(canvas) == kept
    assert mask_files(page) == ["painted-mask.png"]
    expect(page.locator("#mask-preview img.mask-overlay")).to_be_visible()


def test_the_painter_works_from_the_keyboard(page):
    add_reference(page)
    opener = page.get_by_role("button", name=OPEN)
    opener.focus()
    page.keyboard.press("Enter")
    dialog = painter(page)
    canvas = dialog.get_by_role("application")
    expect(canvas).to_be_focused()
    expect(dialog.locator("[data-mask-outline]")).to_be_visible()  # the brush, at the centre
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    box = canvas.bounding_box()
    right_of_centre = 0.5 + 64 / box["width"]
    assert painted_at(canvas, right_of_centre, 0.5)
    assert not painted_at(canvas, 0.5, 0.5)
    page.keyboard.press("Control+z")
    assert painted(canvas) == 0
    page.keyboard.press("Control+Shift+z")
    assert painted_at(canvas, right_of_centre, 0.5)

    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expect(page.locator("#mask-preview")).to_contain_text("Read by transparency")
    assert mask_files(page) == ["painted-mask.png"]


def test_the_painter_opens_by_itself_when_the_field_asks_for_it(page):
    add_reference(page)
    # What "edit a region" on an image renders: the mask editor marked data-open-on-load.
    page.locator("[data-mask-editor]").evaluate(
        """editor => {
            const field = document.getElementById("references-field");
            const copy = field.cloneNode(true);
            copy.querySelector("[data-mask-editor]").setAttribute("data-open-on-load", "");
            field.replaceWith(copy);
            htmx.process(copy);
            copy.dispatchEvent(new CustomEvent("htmx:load", {bubbles: true, detail: {elt: copy}}));
        }"""
    )
    dialog = painter(page)
    expect(dialog).to_be_visible()
    expect(dialog.locator("canvas")).to_be_focused()
    expect(page.locator("[data-open-on-load]")).to_have_count(0)  # once, not after every swap


def test_the_painter_fits_a_phone_and_paints_by_touch(browser, live_server, owner):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = signed_in_page(context, live_server, owner)
    add_reference(page, size=(1024, 1536))
    dialog = open_painter(page)
    canvas = dialog.locator("canvas")
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] >= 0 and box["y"] + box["height"] <= 844
    assert abs(box["width"] / box["height"] - 1024 / 1536) < 0.01  # fitted, not stretched
    for name in ("Done", "Cancel", "Undo", "Redo", "Clear"):
        button = dialog.get_by_role("button", name=name).bounding_box()
        assert button["y"] + button["height"] <= 844 and button["x"] + button["width"] <= 390, name
    page.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4)
    assert painted_at(canvas, 0.5, 0.4)
    dialog.get_by_role("button", name="Done").tap()
    expect(page.locator("#mask-preview img.mask-overlay")).to_be_visible()
    context.close()


# -- Show as code ------------------------------------------------------------------


def code_page(browser, live_server, owner):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return context, signed_in_page(context, live_server, owner)


def test_show_as_code_opens_on_the_sandbox_labelled_so_and_copies_a_snippet(browser, live_server, owner, settings):
    context, page = code_page(browser, live_server, owner)
    page.get_by_label("Prompt").fill("a lighthouse at dawn")
    opener = page.get_by_role("button", name="Show as code")
    opener.click()
    dialog = page.get_by_role("dialog", name="The API request")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Sandbox")
    expect(dialog).to_contain_text(f"POST {settings.SANDBOX_URL}/v1/images/generations")
    expect(dialog.get_by_role("tab", name="Straight to the sandbox")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("tab", name="cURL")).to_be_focused()

    page.keyboard.press("ArrowRight")
    python = dialog.get_by_role("tab", name="Python")
    expect(python).to_be_focused()
    expect(python).to_have_attribute("aria-selected", "true")
    expect(dialog.get_by_role("tabpanel", name="Python")).to_be_visible()
    expect(dialog.get_by_role("tabpanel", name="cURL")).to_be_hidden()

    dialog.get_by_role("button", name="Copy Python").click()
    expect(dialog.get_by_role("tabpanel", name="Python").get_by_role("button")).to_contain_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == dialog.locator("#code-python").text_content()
    assert copied.startswith("import os") and "EVOLINK_API_KEY" in copied and "a lighthouse at dawn" in copied
    assert settings.SANDBOX_API_KEY not in copied

    # The same request through this server, with a personal token.
    dialog.get_by_role("tab", name="Through this server, with your token").click()
    expect(dialog).to_contain_text(f"POST {live_server.url}/v1/images/generations")
    expect(dialog.get_by_role("tabpanel", name="cURL")).to_contain_text("PLAYGROUND_TOKEN")
    expect(dialog.locator("#code-direct-panel")).to_be_hidden()

    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
    context.close()


def test_show_as_code_shows_evolink_when_the_team_has_a_key_and_never_the_key(browser, live_server, owner, team):
    team.set_api_key(TEAM_KEY)
    team.save()
    context, page = code_page(browser, live_server, owner)
    page.get_by_role("button", name="Show as code").click()
    dialog = page.get_by_role("dialog", name="The API request")
    expect(dialog).to_contain_text("POST https://api.evolink.ai/v1/images/generations")
    expect(dialog).to_contain_text("Sent to EvoLink with the team's own key")
    expect(dialog).not_to_contain_text("Sandbox")
    dialog.get_by_role("button", name="Copy cURL").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("curl -X POST https://api.evolink.ai/v1/images/generations")
    assert '"Authorization: Bearer $EVOLINK_API_KEY"' in copied
    assert TEAM_KEY not in page.content() and TEAM_KEY not in copied
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    context.close()
