"""The tokens page in headless Chromium: a member makes a token from the keyboard, copies it
with one button, sees errors where they type, and revokes it. Controls are found by role and
accessible name, so each step also proves they are labelled."""

import pytest
from playwright.sync_api import expect

from playground.teams import tokens
from playground.teams.models import PersonalToken

from .browser import signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


@pytest.fixture
def tokens_page(watch, live_server, teammate):
    context = watch.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = signed_in_page(context, live_server, teammate)
    account = page.get_by_role("navigation", name="Account")
    account.locator("summary").click()  # the account menu
    account.get_by_role("link", name="Personal tokens").click()
    expect(page.get_by_role("heading", name="Personal tokens", level=1)).to_be_visible()
    return page


def test_a_member_makes_a_token_from_the_keyboard_and_copies_it(tokens_page):
    page = tokens_page
    page.get_by_label("Name").fill("nightly renders")
    page.get_by_label("Monthly credit cap").fill("20")
    page.get_by_label("Monthly credit cap").press("Enter")

    shown = page.get_by_label("Token", exact=True)
    expect(shown).to_be_focused()
    plain = shown.input_value()
    assert plain.startswith("pgt_")
    assert tokens.authenticate(plain).name == "nightly renders"

    page.get_by_role("region", name="Your new token “nightly renders”").get_by_role(
        "button", name="Copy"
    ).first.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plain

    listed = page.get_by_role("region", name="Your tokens")
    expect(listed).to_contain_text("nightly renders")
    expect(listed).to_contain_text("0 of 20 credits")

    page.reload()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    assert plain not in page.content()


def test_a_refused_token_shows_the_error_at_its_field_and_focuses_it(tokens_page):
    page = tokens_page
    page.get_by_label("Name").fill("ci")
    page.get_by_label("Monthly credit cap").fill("-5")
    page.get_by_role("button", name="Create token").click()
    cap = page.get_by_label("Monthly credit cap")
    expect(cap).to_be_focused()
    expect(cap).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#monthly_cap-error")).to_contain_text("0 or more")
    assert PersonalToken.objects.count() == 0


def test_a_member_revokes_a_token_and_the_list_says_so(tokens_page, team, teammate):
    tokens.issue(team, teammate, name="old flow")
    page = tokens_page
    page.reload()
    page.get_by_role("button", name="Revoke the token “old flow”").click()
    expect(page.get_by_role("status")).to_contain_text("The token “old flow” was revoked")
    expect(page.get_by_role("region", name="Your tokens")).to_contain_text("Revoked")
    assert PersonalToken.objects.get().revoked_at is not None
