"""Helpers for the browser tests that drive the mask painter dialog."""

from playwright.sync_api import expect

OPEN = "Paint the area to change"

# How many pixels of the painted layer hold paint, and whether one point does.
COUNT_PAINTED = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
    return painted;
}"""
PAINTED_AT = """(canvas, at) => canvas.getContext("2d").getImageData(
    Math.round(at[0] * canvas.width), Math.round(at[1] * canvas.height), 1, 1).data[3] > 0"""


def painter(page):
    return page.get_by_role("dialog", name=OPEN)


def open_painter(page):
    page.get_by_role("button", name=OPEN).click()
    dialog = painter(page)
    expect(dialog).to_be_visible()
    return dialog


def drag(page, canvas, start, end):
    """Paint a stroke from one point to another, each given as fractions of the image."""
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=12)
    page.mouse.up()


def painted(canvas):
    return canvas.evaluate(COUNT_PAINTED)


def painted_at(canvas, x, y):
    return canvas.evaluate(PAINTED_AT, [x, y])


def mask_files(page):
    return page.locator("#id_mask").evaluate("input => Array.from(input.files, file => file.name)")
