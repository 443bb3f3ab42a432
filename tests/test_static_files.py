"""Static files as a deployment serves them: collected under hashed names with brotli and gzip
copies, kept by browsers for a year, and a first visit to the playground small and all from
this server. (The other tests serve the files as they are in the checkout; see conftest.py.)"""

import gzip
import io
import re
from urllib.parse import urljoin

import brotli
import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from fontTools.ttLib import TTFont

from playground.static_files import A_YEAR

pytestmark = pytest.mark.django_db

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
FIRST_LOAD_BUDGET = 200 * 1024
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")


@pytest.fixture(scope="module")
def collected(tmp_path_factory, django_db_blocker):
    """STATIC_ROOT after `collectstatic`, as `manage.py up` runs it."""
    static_root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=static_root, STORAGES=deployed_storages()):
        call_command("collectstatic", interactive=False, verbosity=0)
    return static_root


def deployed_storages():
    from django.conf import settings

    return {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}


@pytest.fixture
def deployed(settings, collected):
    """The settings of a deployment, on the collected files."""
    settings.STATIC_ROOT = collected
    settings.STORAGES = deployed_storages()
    settings.COLLECTED_STATIC = True
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture
def browser(deployed, owner):
    client = Client()  # built now, so its whitenoise reads the deployment's settings
    client.force_login(owner)
    return client


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def decoded(response, data=None):
    data = body(response) if data is None else data
    encoding = response.get("Content-Encoding")
    return brotli.decompress(data) if encoding == "br" else gzip.decompress(data) if encoding == "gzip" else data


def loaded_by(html):
    """The addresses a page makes the browser fetch at once: stylesheets, scripts, its icon."""
    tags = re.findall(r"<(?:link|script|img)\b[^>]*>", html)
    return [m.group(2) for tag in tags for m in [re.search(r"\b(href|src)=\"([^\"]+)\"", tag)] if m]


def urls_in_css(css):
    return re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)


def test_the_playground_first_load_is_small_and_all_from_this_server(browser):
    page = browser.get(reverse("studio:playground"))
    assert page.status_code == 200
    html = page.content.decode()
    sizes = {"/": len(page.content)}  # the page itself as sent, uncompressed
    queue = loaded_by(html)
    assert any(path.endswith(".css") for path in queue) and any(path.endswith(".js") for path in queue)
    while queue:
        path = queue.pop()
        assert path.startswith("/") and not path.startswith("//"), f"{path} is on another host"
        response = browser.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200, path
        sent = body(response)
        sizes[path] = len(sent)
        if path.endswith(".css"):
            css = decoded(response, sent).decode()
            queue += [urljoin(path, url) for url in urls_in_css(css) if not url.startswith("data:")]
    fonts = [path for path in sizes if path.endswith(".woff2")]
    assert fonts, "the typeface is not loaded"
    assert sum(sizes.values()) <= FIRST_LOAD_BUDGET, sizes


def test_static_files_have_hashed_names_a_years_cache_and_come_compressed_when_asked(browser):
    html = browser.get(reverse("studio:playground")).content.decode()
    stylesheet = next(path for path in loaded_by(html) if path.endswith(".css"))
    assert HASHED.search(stylesheet), stylesheet

    for asked, sent in (("br, gzip", "br"), ("gzip", "gzip")):
        response = browser.get(stylesheet, headers={"Accept-Encoding": asked})
        assert response["Content-Encoding"] == sent
        assert "Accept-Encoding" in response["Vary"]
        assert response["Cache-Control"] == f"max-age={A_YEAR}, public, immutable"
        assert b"--space-4" in decoded(response)
    plain = browser.get(stylesheet)
    assert "Content-Encoding" not in plain and b"--space-4" in body(plain)


def test_the_typeface_is_a_small_latin_woff2_cut_from_its_package(browser):
    html = browser.get(reverse("studio:playground")).content.decode()
    stylesheet = next(path for path in loaded_by(html) if "/playground/app." in path and path.endswith(".css"))
    css = decoded(browser.get(stylesheet, headers={"Accept-Encoding": "br"})).decode()
    font_path = urljoin(stylesheet, next(url for url in urls_in_css(css) if url.endswith(".woff2")))
    assert HASHED.search(font_path)
    response = browser.get(font_path)
    assert response["Content-Type"] == "font/woff2"
    data = body(response)
    assert data[:4] == b"wOF2" and len(data) < 100 * 1024
    font = TTFont(io.BytesIO(data))
    assert font["name"].getBestFamilyName() == "Inter"
    covered = font.getBestCmap()
    assert all(ord(char) in covered for char in "Aa Zz 0 9 é ß · — “ ” € …")
