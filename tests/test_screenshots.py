"""The README shows the product: a desktop and a phone screenshot of the playground near its
top, made by `manage.py screenshots` (devtools/screenshots.py) on a scratch app and the sandbox."""

import io
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.conf import settings
from PIL import Image, ImageDraw

from devtools.screenshots import SHOTS, App, banner_login, optimised, take
from playground.generations.models import Generation, Status
from playground.studio.management.commands.up import Command as Up

from .conftest import PASSWORD

README = settings.BASE_DIR / "README.md"
SIZES = {"playground-desktop.png": (1440, 900), "playground-phone.png": (390, 844)}


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = {}

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            attrs = dict(attrs)
            self.found[attrs["src"]] = attrs.get("alt", "")


def readme_images():
    parser = Images()
    parser.feed(README.read_text())
    return parser.found


def test_the_readme_shows_a_desktop_and_a_phone_screenshot_near_its_top_with_alt_text():
    text = README.read_text()
    images = readme_images()
    for shot in SHOTS:
        source = f"docs/screenshots/{shot.name}"
        assert len(images.get(source, "")) > 40, f"{source} shown with a description"
        assert text.index(source) < text.index("## Quick start")
        with Image.open(settings.BASE_DIR / source) as image:
            assert (image.format, image.size) == ("PNG", SIZES[shot.name])
        assert (settings.BASE_DIR / source).stat().st_size < 200_000
    assert "manage.py screenshots" in text


def test_the_login_is_read_from_what_manage_py_up_prints():
    printed = StringIO()
    Up(stdout=printed)._banner(8123, "demo", "Xy-12_ab")
    assert banner_login("Operations to perform...\n") is None
    assert banner_login("migrating\n" + printed.getvalue()) == App("http://127.0.0.1:8123", "demo", "Xy-12_ab")


def page_like_screenshot(size=(1440, 900)):
    """A picture with what a page has: flat panels, text-like strokes and a photo-like gradient."""
    image = Image.new("RGB", size, (245, 246, 250))
    draw = ImageDraw.Draw(image)
    photo = Image.linear_gradient("L").resize((600, 400)).convert("RGB")
    image.paste(photo, (400, 200))
    for row in range(20):
        draw.text((40, 40 + row * 30), "Create images " * 3, fill=(20, 20, 30))
    return image


def test_a_screenshot_is_kept_as_a_much_smaller_png_of_the_same_picture():
    plain = io.BytesIO()
    page_like_screenshot().save(plain, "PNG")
    kept = optimised(plain.getvalue())
    with Image.open(io.BytesIO(kept)) as image:
        assert (image.format, image.size) == ("PNG", (1440, 900))
        # Text stays where it was: the top-left corner is still the panel's colour.
        assert image.convert("RGB").getpixel((5, 5)) == (245, 246, 250)
    assert len(kept) < len(plain.getvalue()) / 2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox", "tracker")
def test_both_screenshots_are_taken_after_generating_through_the_page(tmp_path, live_server, owner):
    """What the command does once its scratch app is up (`manage.py up` and the login it prints
    are tested above and in tests/test_commands.py), on the test's own server."""
    saved = take(App(live_server.url, owner.username, PASSWORD), tmp_path)
    assert [path.name for path in saved] == list(SIZES)
    for path in saved:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", SIZES[path.name])
    assert Generation.objects.filter(status=Status.COMPLETED).count() == len(SHOTS)
