"""What a person does in the page, in headless Chromium."""

import base64
import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageChops, ImageFilter
from playwright.sync_api import expect

from playground.evolink.contract import MASK_CHANGE_PIXEL, MASK_KEEP_PIXEL
from playground.generations.masks import SOFT_EDGE, edit_region
from playground.generations.models import Generation, Mode

from .browser import screenshot, signed_in_page, signed_in_through_the_form, wait_until
from .images import image_bytes
from .painter import drag, mask_files, open_painter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def test_a_person_signs_in_through_the_form_and_lands_on_the_playground(watch, live_server, owner):
    """The other browser tests start signed in with a session cookie; this one types."""
    page = signed_in_through_the_form(watch.new_context(), live_server, owner)
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(owner.username)

def test_a_person_generates_and_sees_history_go_from_running_to_completed_without_a_reload(page, tracker):
    summary = page.locator("#history-summary")
    expect(summary).to_have_text("0 running · 0 completed")
    page.evaluate("window.loadedOnce = true")

    prompt = page.get_by_label("Prompt")
    prompt.fill("A lighthouse on a cliff at dawn")
    expect(page.locator("#prompt-counter")).to_have_text("31 / 2000")
    page.get_by_text("3:2 landscape").click()
    page.get_by_text("2", exact=True).click()
    screenshot(page, "1-compose")
    page.get_by_role("button", name="Generate").click()

    expect(summary).to_have_text("1 running · 0 completed")
    screenshot(page, "2-running")
    expect(summary).to_have_text("0 running · 1 completed", timeout=30_000)
    images = page.locator("#result img")
    expect(images).to_have_count(2)
    expect(page.locator("#history .thumbs img")).to_have_count(2)
    # Loaded at full size (through the image view, from the bucket on the scale setup).
    wait_until(lambda: images.first.evaluate("img => img.complete && img.naturalWidth") == 1536)
    assert page.evaluate("window.loadedOnce") is True  # the same page: nothing reloaded
    assert prompt.input_value() == "A lighthouse on a cliff at dawn"  # kept for the next try
    screenshot(page, "3-completed")


def test_a_refused_prompt_shows_its_message_next_to_the_field(page):
    page.get_by_role("button", name="Generate").click()
    error = page.locator("#prompt-error")
    expect(error).to_have_text("Write a prompt describing the image.")
    expect(page.get_by_label("Prompt")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#history-summary")).to_have_text("0 running · 0 completed")


def test_the_form_works_from_the_keyboard(page, tracker):
    page.get_by_label("Prompt").focus()
    page.keyboard.type("a paper boat")
    for _ in range(6):  # past the reference images, into the size group
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "size":
            break
    page.keyboard.press("ArrowRight")  # 2:3 portrait
    page.get_by_label("Prompt").focus()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed", timeout=30_000)
    expect(page.locator("#result .meta").first).to_contain_text("2:3 portrait")


def test_the_page_fits_a_phone(browser, live_server, owner):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = signed_in_page(context, live_server, owner)
    expect(page.get_by_role("button", name="Generate")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "4-phone-dark")
    context.close()


def test_a_hidden_tab_does_not_poll_for_a_teammates_work_and_catches_up_when_shown_again(page, team, teammate):
    from .conftest import make_generation

    # Something running, a teammate's: polling on while visible. (The person's own work
    # keeps a hidden tab polling, to tell them when it is done: see test_browser_stage.py.)
    make_generation(team, teammate, status="processing", progress=30)
    page.reload()
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/history" in request.url else None)
    page.wait_for_timeout(2500)
    assert polls, "a visible tab polls while something runs"

    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    polls.clear()
    page.wait_for_timeout(4500)
    assert polls == []

    page.evaluate("""Object.defineProperty(document, 'hidden', {value: false, configurable: true});
                     document.dispatchEvent(new Event('visibilitychange'))""")
    page.wait_for_timeout(500)
    assert len(polls) >= 1


def test_keyboard_focus_in_history_survives_a_live_update(page, team, owner):
    from playground.generations.models import Generation

    from .conftest import make_generation

    generation = make_generation(team, owner, status="processing", progress=30)
    page.reload()
    link = page.locator(f"#open-{generation.public_id}")
    link.focus()
    Generation.objects.filter(pk=generation.pk).update(progress=70)
    expect(page.locator("#history progress")).to_have_attribute("value", "70")
    assert page.evaluate("document.activeElement.id") == f"open-{generation.public_id}"


def test_a_typed_prompt_survives_a_reload(page):
    page.get_by_label("Prompt").fill("a half-written idea about tea")
    page.reload()
    expect(page.get_by_label("Prompt")).to_have_value("a half-written idea about tea")


def test_after_generate_focus_is_back_in_the_prompt(page, tracker):
    page.get_by_label("Prompt").fill("a red kite")
    page.get_by_role("button", name="Generate").press("Enter")
    expect(page.locator("#history-summary")).to_contain_text("1 running")
    expect(page.get_by_label("Prompt")).to_be_focused()


def test_opening_an_older_item_marks_it_shows_it_and_changes_the_address(page, team, owner):
    from .conftest import make_generation

    older = make_generation(team, owner, prompt="an older lighthouse", status="completed", progress=100)
    make_generation(team, owner, prompt="the newest boat", status="completed", progress=100)
    page.reload()
    expect(page.locator("#result .result-prompt")).to_have_text("the newest boat")
    page.get_by_role("link", name="an older lighthouse").click()
    expect(page.locator("#result .result-prompt")).to_have_text("an older lighthouse")
    expect(page.get_by_role("link", name="an older lighthouse")).to_have_attribute("aria-current", "true")
    assert f"?g={older.public_id}" in page.url
    page.go_back()
    expect(page.locator("#result .result-prompt")).to_have_text("the newest boat")


def drop_files(page, selector, files):
    """Drop files on an element as a person dragging them from their desktop would."""
    payload = [{"name": name, "type": kind, "data": base64.b64encode(data).decode()} for name, kind, data in files]
    page.locator(selector).evaluate(
        """(zone, files) => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name, {type: file.type}));
            }
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        payload,
    )


def test_two_references_dropped_on_the_form_are_used_for_image_to_image(page, tracker):
    drop_files(
        page,
        "[data-dropzone]",
        [
            ("red.png", "image/png", image_bytes(colour=(230, 30, 30))),
            ("blue.jpg", "image/jpeg", image_bytes(fmt="JPEG", colour=(30, 30, 230))),
        ],
    )
    expect(page.locator(".reference-item")).to_have_count(2)
    expect(page.get_by_role("button", name="Remove reference 2 (blue.jpg)")).to_be_visible()
    expect(page.locator("[data-mask-editor]")).to_have_count(0)  # masks edit exactly one reference
    page.get_by_label("Prompt").fill("the two of them, as a poster")
    screenshot(page, "5-two-references")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed", timeout=30_000)

    generation = Generation.objects.get()
    assert generation.mode == Mode.IMAGE
    assert [reference.original_name for reference in generation.ordered_references()] == ["red.png", "blue.jpg"]
    assert len(generation.image_urls) == 2
    expect(page.locator("#result .inputs img")).to_have_count(2)


def test_an_uploaded_white_mask_is_shown_as_understood_then_painting_replaces_it(page, tracker):
    drop_files(page, "[data-dropzone]", [("street.png", "image/png", image_bytes())])
    expect(page.get_by_role("button", name="Paint the area to change")).to_be_visible()
    white = Image.new("L", (1024, 1024), 0)
    white.paste(255, (600, 600, 900, 900))
    out = io.BytesIO()
    white.save(out, "PNG")
    page.locator("#id_mask").set_input_files({"name": "mask.png", "mimeType": "image/png", "buffer": out.getvalue()})
    preview = page.locator("#mask-preview")
    expect(preview).to_contain_text("Read as white = change")
    expect(preview.locator("img.mask-overlay")).to_be_visible()
    screenshot(page, "6-uploaded-mask")
    dialog = open_painter(page)
    box = dialog.locator("canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    dialog.get_by_role("button", name="Done").click()
    # The painting is the mask now, read as the server reads it.
    expect(preview).to_contain_text("Read by transparency")
    expect(preview.get_by_role("img", name="The painted mask over the reference", exact=False)).to_be_visible()
    assert mask_files(page) == ["painted-mask.png"]


def test_a_painted_mask_with_strict_mask_changes_only_the_painted_area(page, tracker, sandbox_mask_reading):
    reference_data = image_bytes()
    drop_files(page, "[data-dropzone]", [("street.png", "image/png", reference_data)])
    expect(page.get_by_label("Strict mask")).to_be_checked()
    dialog = open_painter(page)
    drag(page, dialog.locator("canvas"), (0.55, 0.55), (0.8, 0.75))
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#mask-preview")).to_contain_text("Read by transparency")
    page.get_by_label("Prompt").fill("a red door in the wall")
    screenshot(page, "6-painted-mask")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed", timeout=30_000)
    expect(page.get_by_role("link", name="the service's original")).to_be_visible()
    screenshot(page, "7-strict-result")

    generation = Generation.objects.get()
    assert (generation.mode, generation.strict_mask) == (Mode.EDIT, True)
    with default_storage.open(generation.mask.file.name) as mask_file:
        painted = edit_region(Image.open(mask_file))
    assert painted.size == (1024, 1024) and painted.getbbox() is not None
    with default_storage.open(generation.mask.file.name) as mask_file:
        stored = Image.open(mask_file).convert("RGBA")
    # Transparent and white where painted, opaque black elsewhere: the same area to either reading.
    assert {colour for _, colour in stored.getcolors(maxcolors=1 << 24)} == {MASK_CHANGE_PIXEL, MASK_KEEP_PIXEL}
    left, top, right, bottom = painted.getbbox()
    assert 0.5 * 1024 < left < right < 0.85 * 1024 and 0.5 * 1024 < top < bottom < 0.8 * 1024
    with default_storage.open(generation.images.get().file.name) as result_file:
        result = Image.open(result_file).convert("RGB")
    difference = ImageChops.difference(result, Image.open(io.BytesIO(reference_data)).convert("RGB")).convert("L")
    outside = ImageChops.invert(painted)
    assert ImageChops.multiply(difference, outside).getbbox() is None  # identical outside the painted area
    inside = painted.filter(ImageFilter.MinFilter(4 * SOFT_EDGE + 1))  # well inside, beyond the soft edge
    assert ImageChops.multiply(difference, inside).getbbox() is not None
