"""Every page but the playground's own work, in headless Chromium on a phone (390 × 844): none
scrolls sideways, whatever long words, tables or images it holds; and the History page's
Filters control, folded by default, counts the filters in use and opens from the keyboard."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from playground.generations.models import Status
from playground.teams import budgets
from playground.teams.models import Invitation, Membership

from .browser import signed_in_page
from .conftest import make_generation, make_user
from .finished import finished_generation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LONG_WORD = "unbreakable" * 12  # a word wider than a phone, as pasted prompts and notes have


@pytest.fixture
def busy_team(team, owner, teammate):
    """A team with something on every page: images, a failure, a run in progress, budgets
    (so the audit log has rows), an invitation, another member."""
    completed = [
        finished_generation(team, owner, prompt=f"a lighthouse at dawn {LONG_WORD}", size="3:2", n=2),
        finished_generation(team, teammate, prompt="a red bicycle by the sea", size="2:3"),
    ]
    make_generation(team, owner, prompt=f"a neon koi pond {LONG_WORD}", status=Status.FAILED,
                    error_message="The request was refused by the content policy. Try rewording the prompt.")
    make_generation(team, owner, prompt="a paper boat", status=Status.PROCESSING, progress=40, task_id="task-running")
    budgets.set_budget(team, owner, None, Decimal(500))
    budgets.set_budget(team, owner, Membership.objects.get(user=teammate), Decimal("12.5"))
    Invitation.issue(team, owner, Membership.Role.VIEWER, f"jane.{LONG_WORD}@example.com")
    make_user("vera", team, Membership.Role.VIEWER)
    return completed


def pages_of(team, completed):
    failed = team.generations.get(status=Status.FAILED)
    running = team.generations.get(status=Status.PROCESSING)
    first, second = completed
    compare = f"{reverse('studio:compare')}?generation={first.public_id}&generation={second.public_id}"
    return [
        reverse("studio:playground"),
        reverse("studio:generations"),
        reverse("studio:generations") + "?layout=list",
        reverse("studio:generations") + "?status=failed&start=2030-01-02&end=2030-01-01",  # an error shown
        reverse("studio:generation-detail", args=[first.public_id]),
        reverse("studio:generation-detail", args=[failed.public_id]),
        reverse("studio:generation-detail", args=[running.public_id]),
        compare,
        reverse("teams:members"),
        reverse("teams:create"),
        reverse("teams:audit"),
        reverse("studio:key"),
        reverse("studio:budgets"),
        reverse("studio:key-hosted-files"),
        reverse("studio:usage"),
        reverse("studio:usage-balance"),
        reverse("password_change"),
    ]


def scrolls_sideways(page):
    """The page, or a table in its box (a table must become stacked rows, not a strip to pan)."""
    return page.evaluate(
        """document.documentElement.scrollWidth > window.innerWidth
           || [...document.querySelectorAll('.table-wrap')].some(box => box.scrollWidth > box.clientWidth)"""
    )


def test_no_page_scrolls_sideways_on_a_phone(watch, live_server, team, owner, busy_team):
    page = signed_in_page(watch.new_context(**PHONE), live_server, owner)
    wide = []
    for path in pages_of(team, busy_team):
        page.goto(live_server.url + path)
        expect(page.locator("main")).to_be_visible()
        if scrolls_sideways(page):
            wide.append(path)
    # The Filters opened, and a page's own control (the test result) shown.
    page.goto(live_server.url + reverse("studio:generations"))
    page.locator("summary.filters-toggle").click()
    expect(page.get_by_label("Mode")).to_be_visible()
    if scrolls_sideways(page):
        wide.append("History, Filters open")
    page.goto(live_server.url + reverse("studio:key"))
    page.get_by_role("button", name="Test the sandbox").click()
    expect(page.locator("#test-result")).to_contain_text("It works")
    if scrolls_sideways(page):
        wide.append("Key, tested")
    assert wide == []


def test_signed_out_pages_do_not_scroll_sideways_on_a_phone(watch, live_server, team, owner):
    _invitation, token = Invitation.issue(team, owner, Membership.Role.MEMBER, f"for {LONG_WORD}")
    page = watch.new_context(**PHONE).new_page()
    wide = []
    for path in [reverse("login"), reverse("password_reset"), reverse("teams:accept-invitation", args=[token])]:
        page.goto(live_server.url + path)
        if scrolls_sideways(page):
            wide.append(path)
    # The sign-up form with its errors under their fields.
    page.get_by_label("Username").fill(LONG_WORD)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password confirmation").fill("other")
    page.get_by_role("button", name=re.compile("Create account")).click()
    expect(page.locator("#password1-error")).to_be_visible()
    if scrolls_sideways(page):
        wide.append("sign-up with errors")
    assert wide == []


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_the_filters_fold_away_count_what_is_active_and_open_from_the_keyboard(
    watch, live_server, team, owner, busy_team, viewport
):
    page = signed_in_page(watch.new_context(viewport=viewport), live_server, owner)
    page.goto(live_server.url + reverse("studio:generations") + "?status=completed&size=3%3A2")
    search = page.get_by_label("Search prompts")
    expect(search).to_be_visible()
    toggle = page.locator("summary.filters-toggle")
    expect(toggle).to_have_text(re.compile(r"Filters\s*2\s*\(2 active\)"))
    mode = page.get_by_label("Mode")
    expect(mode).to_be_hidden()  # folded: the results come first
    expect(page.locator("#results .gallery-prompt")).to_have_count(1)

    search.focus()
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(mode).to_be_visible()

    page.get_by_label("Person").select_option(label="tom")
    expect(toggle).to_have_text(re.compile(r"Filters\s*3\s*\(3 active\)"))
    expect(page).to_have_url(re.compile(r"person="))
    expect(page.locator("#results")).to_contain_text("No generation matches these filters.")
    expect(mode).to_be_visible()  # still open after the results changed

    page.get_by_label("Status").select_option("")
    page.get_by_label("Size").select_option("")
    expect(toggle).to_have_text(re.compile(r"Filters\s*1\s*\(1 active\)"))
    expect(page.locator("#results .gallery-prompt")).to_have_text(["a red bicycle by the sea"])
    page.get_by_label("From").fill("2030-01-02")
    page.get_by_label("To", exact=True).fill("2030-01-01")
    expect(page.locator("#end-error")).to_have_text("The end date is before the start date.")
    page.get_by_label("To", exact=True).fill("")
    expect(page.locator("#end-error")).to_have_count(0)

    toggle.press("Enter")
    expect(mode).to_be_hidden()
