"""The frame of every page in Chromium: a compact header whose sections fold into a menu on a
phone, the account menu, the language in the footer, and the typeface served by the app,
in light and dark. Every context is watched: no console error, no request to another host."""

import pytest
from playwright.sync_api import expect

from .browser import signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def sign_in(watch, live_server, user, viewport, scheme):
    return signed_in_page(watch.new_context(viewport=viewport, color_scheme=scheme), live_server, user)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_header_is_compact_and_the_sections_are_behind_the_menu(watch, live_server, owner, scheme):
    page = sign_in(watch, live_server, owner, PHONE, scheme)
    header = page.get_by_role("banner")
    assert header.bounding_box()["height"] <= 64
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections).to_be_hidden()

    menu = page.get_by_role("button", name="Menu")
    menu.click()
    expect(sections).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(owner.username)
    page.keyboard.press("Escape")
    expect(sections).to_be_hidden()
    expect(menu).to_be_focused()

    page.keyboard.press("Enter")  # the menu from the keyboard
    sections.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="History")).to_be_visible()
    expect(sections).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_desktop_the_sections_and_the_account_are_in_the_header(watch, live_server, owner, scheme):
    page = sign_in(watch, live_server, owner, DESKTOP, scheme)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link", name="Playground", exact=True)).to_have_attribute("aria-current", "page")
    account = page.get_by_role("navigation", name="Account")
    expect(account.get_by_text("Acme studio", exact=True)).to_be_visible()

    sign_out = account.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    menu = account.get_by_text(owner.username, exact=True)
    menu.click()
    expect(sign_out).to_be_visible()
    page.keyboard.press("Escape")  # closes, back on its button
    expect(sign_out).to_be_hidden()
    page.keyboard.press("Enter")
    expect(sign_out).to_be_visible()
    page.get_by_role("heading", name="Create images").click()  # a click elsewhere closes it
    expect(sign_out).to_be_hidden()

    menu.click()
    expect(account).to_contain_text("Owner in Acme studio")
    sign_out.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_language_is_chosen_in_the_footer(watch, live_server, owner):
    page = sign_in(watch, live_server, owner, DESKTOP, "light")
    footer = page.get_by_role("contentinfo")
    footer.get_by_label("Language").select_option("ko")
    footer.get_by_role("button", name="Change").click()
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="기록", exact=True)).to_be_visible()
    footer.get_by_label("언어").select_option("en")
    footer.get_by_role("button", name="변경").click()
    expect(header.get_by_role("link", name="History", exact=True)).to_be_visible()


def test_the_pages_are_set_in_the_apps_own_typeface(watch, live_server, owner):
    page = sign_in(watch, live_server, owner, PHONE, "dark")
    assert page.evaluate("document.fonts.ready.then(() => true)")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").split(",")[0].strip('"') == "Inter"
    assert page.evaluate("document.fonts.check('16px Inter')")
    loaded = page.evaluate("[...document.fonts].filter(f => f.family === 'Inter').map(f => f.status)")
    assert loaded == ["loaded"]
