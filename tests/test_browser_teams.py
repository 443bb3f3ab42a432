"""Team accounts in headless Chromium: what owners, members and viewers do in the pages.

Controls are found by role and accessible name only, so each test also proves that the
controls it uses are labelled. Every browser context is watched: a console error, an
uncaught script error or a request to a host other than the live server (or the sandbox)
fails the test.
"""

import re

import pytest
from playwright.sync_api import expect

from playground.generations.models import Generation, Status
from playground.teams.models import Invitation, Membership

from .browser import signed_in_page
from .conftest import PASSWORD, drive, make_generation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

Role = Membership.Role


def sign_in(watch, live_server, user, **options):
    return signed_in_page(watch.new_context(**options), live_server, user)


def open_section(page, name):
    """Go to a page through the top bar's section links, as a person would."""
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name, exact=True).click()


def history(page):
    return page.get_by_role("complementary", name="History")


def test_an_invited_person_signs_up_from_the_link_joins_the_team_and_generates(
    watch,
    live_server,
    team,
    owner,
    tracker,
):
    page = sign_in(watch, live_server, owner)
    open_section(page, "Team")
    expect(page.get_by_role("heading", name="Acme studio", level=1)).to_be_visible()
    pending = page.get_by_role("region", name="Pending invitations")
    expect(pending).to_contain_text("No pending invitations.")

    page.get_by_label("Role", exact=True).select_option(label="Member")
    page.get_by_label("For whom").fill("Nina from the print shop")
    page.get_by_role("button", name="Create invitation link").click()
    link_field = page.get_by_role("textbox", name="Link to join as Member (Nina from the print shop)")
    expect(link_field).to_be_visible()
    expect(link_field).not_to_be_editable()  # read-only: to copy, not to change
    expect(link_field).to_have_accessible_description(re.compile("shown only this once"))
    link = link_field.input_value()
    assert link.startswith(f"{live_server.url}/invitations/")
    expect(pending.get_by_role("row", name=re.compile("Nina from the print shop"))).to_contain_text("Member")

    # Someone without an account opens the link in their own browser.
    guest = watch.new_context().new_page()
    guest.goto(link)
    expect(guest.get_by_role("heading", name="Join Acme studio as Member")).to_be_visible()
    guest.get_by_label("Username").fill("nina")
    guest.get_by_label("Password", exact=True).fill(PASSWORD)
    guest.get_by_label("Password confirmation").fill(PASSWORD)
    guest.get_by_role("button", name="Create account and join Acme studio").click()

    expect(guest.get_by_role("heading", name="Create images")).to_be_visible()
    account = guest.get_by_role("navigation", name="Account")
    expect(account.get_by_text("Acme studio", exact=True)).to_be_visible()
    expect(account.get_by_text("nina", exact=True)).to_be_visible()
    nina = Membership.objects.get(user__username="nina")
    assert (nina.team, nina.role) == (team, Role.MEMBER)

    guest.get_by_label("Prompt").fill("a letterpress poster of a fox")
    guest.get_by_role("button", name="Generate").click()
    expect(history(guest).get_by_role("link", name="a letterpress poster of a fox")).to_be_visible()
    expect(guest.locator("#history-summary")).to_have_text("0 running · 1 completed", timeout=30_000)
    assert Generation.objects.get().created_by.username == "nina"

    # Back with the owner: the new member is listed and the invitation is no longer pending.
    page.reload()
    members = page.get_by_role("region", name="Members")
    expect(members.get_by_role("rowheader", name="nina")).to_be_visible()
    expect(members.get_by_label("Role of nina", exact=True)).to_have_value(Role.MEMBER)
    expect(page.get_by_role("region", name="Pending invitations")).to_contain_text("No pending invitations.")
    # The link was shown that once only.
    expect(page.get_by_role("textbox", name=re.compile("Link to join"))).to_have_count(0)

    # The link has been used: it says so, to anyone.
    watch.expect_console_error(r"status of 410")
    stranger = watch.new_context().new_page()
    response = stranger.goto(link)
    assert response.status == 410
    expect(stranger.get_by_role("heading", name="This invitation has already been used")).to_be_visible()
    expect(stranger.get_by_role("button", name=re.compile("Create account"))).to_have_count(0)
    assert Invitation.objects.get().accepted_by.username == "nina"


def tab_to(page, locator, presses=60):
    """Press Tab until `locator` has the focus; fails if it never gets it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("not reachable with Tab")


def test_an_owner_makes_a_member_a_viewer_with_the_keyboard_only(watch, live_server, team, owner, teammate):
    page = sign_in(watch, live_server, owner)
    open_section(page, "Team")
    role = page.get_by_label("Role of tom", exact=True)
    expect(role).to_have_value(Role.MEMBER)

    page.locator("body").focus()
    tab_to(page, role)
    page.keyboard.press("ArrowDown")  # Member → Viewer, the select stays closed
    expect(role).to_have_value(Role.VIEWER)
    change = page.get_by_role("button", name="Change role of tom")
    page.keyboard.press("Tab")
    expect(change).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="tom is now Viewer.")).to_be_visible()
    expect(page.get_by_label("Role of tom", exact=True)).to_have_value(Role.VIEWER)
    assert Membership.objects.get(user=teammate).role == Role.VIEWER

    viewer = sign_in(watch, live_server, teammate)
    expect(viewer.get_by_role("button", name="Generate")).to_be_disabled()
    expect(viewer.get_by_text("Viewers can browse the history but cannot generate.")).to_be_visible()


def test_a_person_in_two_teams_switches_team_and_sees_only_that_teams_history(
    watch, live_server, team, other_team, owner
):
    Membership.objects.create(team=other_team, user=owner, role=Role.MEMBER)
    make_generation(team, owner, prompt="an Acme lighthouse", status=Status.COMPLETED, progress=100)
    make_generation(other_team, owner, prompt="a Rival windmill", status=Status.COMPLETED, progress=100)

    page = sign_in(watch, live_server, owner)
    switcher = page.get_by_label("Team", exact=True)
    expect(switcher.locator("option:checked")).to_have_text("Acme studio")
    expect(history(page).get_by_role("link", name="an Acme lighthouse")).to_be_visible()
    expect(history(page).get_by_role("link", name="a Rival windmill")).to_have_count(0)

    switcher.select_option(label="Rival inc")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_label("Team", exact=True).locator("option:checked")).to_have_text("Rival inc")
    expect(history(page).get_by_role("link", name="a Rival windmill")).to_be_visible()
    expect(history(page).get_by_role("link", name="an Acme lighthouse")).to_have_count(0)
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed")

    page.get_by_label("Team", exact=True).select_option(label="Acme studio")
    page.get_by_role("button", name="Switch").click()
    expect(history(page).get_by_role("link", name="an Acme lighthouse")).to_be_visible()
    expect(history(page).get_by_role("link", name="a Rival windmill")).to_have_count(0)


def test_a_team_budget_set_on_the_page_refuses_a_generation_next_to_the_image_count(
    watch, live_server, team, owner
):
    page = sign_in(watch, live_server, owner)
    open_section(page, "Key and budgets")
    budgets = page.get_by_role("region", name="Monthly budgets")
    team_budget = budgets.get_by_label("Team budget (credits per month)")
    expect(team_budget).to_have_accessible_description("The team has used 0 credits this month.")
    team_budget.fill("2")
    budgets.get_by_role("button", name="Save budgets").click()
    expect(page.get_by_role("status").filter(has_text="The budgets are saved.")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/team/budgets")
    expect(page.get_by_label("Team budget (credits per month)")).to_have_value("2.00")
    team.refresh_from_db()
    assert team.monthly_budget == 2

    open_section(page, "Playground")
    expect(page.get_by_text("The team has 2 of 2 credits left this month.")).to_be_visible()
    page.get_by_label("Prompt").fill("two posters for the fair")
    count = page.get_by_role("group", name="Number of images")
    count.get_by_text("2", exact=True).click()
    expect(count.get_by_role("radio", name="2")).to_be_checked()
    page.get_by_role("button", name="Generate").click()

    refusal = (
        "This needs 3 credits, but the team's monthly budget has 2 of 2 credits left. "
        "Choose fewer images, or ask an owner to raise the budget."
    )
    count = page.get_by_role("group", name="Number of images")
    expect(count).to_have_accessible_description(refusal)
    expect(count.get_by_text(refusal)).to_be_visible()
    expect(page.get_by_label("Prompt")).to_have_value("two posters for the fair")  # kept, to try again
    expect(page.locator("#history-summary")).to_have_text("0 running · 0 completed")
    # Focus moves to the refused choice, so a screen reader reads the message out.
    expect(count.get_by_role("radio", name="2")).to_be_focused()
    assert Generation.objects.count() == 0


def test_the_usage_page_charts_tables_and_exports_a_completed_generation(watch, live_server, team, owner):
    page = sign_in(watch, live_server, owner)
    page.get_by_label("Prompt").fill("a lemon on a blue plate")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#history-summary")).to_contain_text("1 running")
    generation = drive(Generation.objects.get())
    assert generation.status == Status.COMPLETED

    open_section(page, "Usage")
    expect(page.get_by_role("heading", name=re.compile(r"^Usage in "), level=1)).to_be_visible()
    chart = page.get_by_role("img", name=re.compile(r"^Credits per day in \w+ \d{4}\b"))  # from its <title>
    expect(chart).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="1.5")).to_have_count(1)  # credits charged

    days = page.get_by_role("table", name=re.compile(r"^Days with generations in "))
    day_rows = days.locator("tbody").get_by_role("row")
    expect(day_rows).to_have_count(1)
    expect(day_rows.first.get_by_role("cell")).to_have_text(["1", "1", "1.5", "0"])
    members = page.get_by_role("region", name="Per member").get_by_role("table")
    expect(members.get_by_role("row", name=re.compile(r"^olivia"))).to_contain_text("1.5")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert re.fullmatch(r"usage-acme-\d{4}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as csv_file:
        lines = csv_file.read().splitlines()
    assert lines[0] == "date,member,generations,images,credits_charged,credits_reserved,token,token_prefix"
    assert len(lines) == 2
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2},olivia,1,1,1\.5,0,,", lines[1])  # made on the page: no token
