"""Hostile input stays text, in headless Chromium: a prompt, a reference's file name, tags, a
team's name, a member's username and an invitation's note full of markup and script are shown
literally on every page that shows them, and nothing of them runs.

Every page is also watched for the CSP: a `securitypolicyviolation` event (or the console error
Chromium logs with it) fails the test, so walking the pages and generating proves them clean.
"""

import csv
import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from playground.generations.models import Generation, Status, Tag
from playground.teams.models import AuditEvent, Membership

from .browser import signed_in_page
from .conftest import make_generation, make_user
from .finished import stored_image
from .images import image_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

XSS = "<img src=x onerror=alert(1)>"
BREAKOUT = '"><script>alert(1)</script>'
JS_URL = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
TEXTAREA = "</textarea>"

PROMPT = f"{BREAKOUT} {XSS} {JS_URL} {TEMPLATE} {TEXTAREA} a lighthouse"
FILE_NAME = f"{XSS} {TEMPLATE}.png"  # no "/": a file name cannot hold one
TAGS = [XSS, BREAKOUT]
TEAM_NAME = f"{BREAKOUT} {XSS} {TEMPLATE}"
USERNAME = f'=HYPERLINK("{JS_URL}") {XSS}'  # a formula too, for the CSV
NOTE = f"{JS_URL} {BREAKOUT} {TEXTAREA}"

# Registered in every page before its own scripts run; Playwright's init scripts are not
# subject to the page's CSP.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


class Hostile:
    """A watched context that also records dialogs and CSP violations."""

    def __init__(self, watch):
        self.watch = watch
        self.dialogs = []
        self.violations = []

    def new_page(self, live_server, user):
        context = self.watch.new_context()
        context.expose_function("reportViolation", self.on_violation)
        context.add_init_script(script=REPORT_VIOLATIONS)
        context.on("page", lambda page: page.on("dialog", self.on_dialog))
        return signed_in_page(context, live_server, user)

    def on_violation(self, description):
        self.violations.append(description)

    def on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_inert(self, page):
        """Nothing ran and nothing was injected: no dialog, no element made of the payloads."""
        page.wait_for_load_state()
        assert self.dialogs == []
        assert self.violations == []
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("[href^='javascript:' i], [src^='javascript:' i], [action^='javascript:' i]").count() == 0
        assert page.locator("[onerror], [onclick], [onload]").count() == 0


@pytest.fixture
def hostile(watch):
    return Hostile(watch)


def expect_literal(locator, *texts):
    for text in texts:
        expect(locator).to_contain_text(text)


def test_a_hostile_prompt_file_name_and_tags_stay_text_through_the_studio(hostile, live_server, team, owner, tracker):
    page = hostile.new_page(live_server, owner)
    page.locator("#id_images").set_input_files({"name": FILE_NAME, "mimeType": "image/png", "buffer": image_bytes()})
    expect_literal(page.locator("#references-field .reference-name"), FILE_NAME)
    page.get_by_label("Prompt").fill(PROMPT)
    page.get_by_role("button", name="Show as code").click()
    expect_literal(page.get_by_role("dialog", name="The API request"), XSS, BREAKOUT)
    hostile.assert_inert(page)
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#history-summary")).to_have_text("0 running · 1 completed", timeout=30_000)
    generation = Generation.objects.get()
    expect_literal(page.locator("#result"), PROMPT)
    expect_literal(page.locator("#history"), XSS, BREAKOUT, TEMPLATE)
    hostile.assert_inert(page)

    page.locator("#result .result-images a").first.click()
    caption = page.get_by_role("dialog", name="Image viewer").locator("figcaption")
    expect_literal(caption, PROMPT)
    hostile.assert_inert(page)
    page.keyboard.press("Escape")

    page.goto(f"{live_server.url}{reverse('studio:generation-detail', args=[generation.public_id])}")
    expect_literal(page.get_by_role("main"), PROMPT, FILE_NAME)
    page.get_by_role("textbox", name="Tags").fill(", ".join(TAGS))
    page.get_by_role("button", name="Save the tags").click()
    expect_literal(page.locator("#tags"), *TAGS)
    assert sorted(Tag.objects.values_list("name", flat=True)) == sorted(TAGS)
    hostile.assert_inert(page)

    page.goto(f"{live_server.url}{reverse('studio:playground')}?rerun={generation.public_id}")
    expect(page.get_by_label("Prompt")).to_have_value(PROMPT)  # </textarea> did not end the field
    expect_literal(page.locator("#references-field"), FILE_NAME)
    page.get_by_text("Choose from earlier images").click()
    expect(page.locator(".earlier-list img").first).to_be_visible()
    hostile.assert_inert(page)

    page.goto(f"{live_server.url}{reverse('studio:generations')}")
    expect_literal(page.locator("#results"), XSS, BREAKOUT, TEMPLATE)
    page.get_by_label("Tag").select_option(label=XSS)
    expect(page).to_have_url(re.compile(r"tag="))
    expect_literal(page.locator("#results"), JS_URL)
    page.get_by_text("List", exact=True).click()
    expect(page).to_have_url(re.compile(r"layout=list"))
    expect_literal(page.locator("#results"), XSS)
    hostile.assert_inert(page)

    second = make_generation(team, owner, prompt=f"second {XSS}", status=Status.COMPLETED)
    stored_image(second, 0)
    page.goto(
        f"{live_server.url}{reverse('studio:compare')}?generation={generation.public_id}&generation={second.public_id}"
    )
    expect_literal(page.get_by_role("main"), PROMPT, f"second {XSS}")
    hostile.assert_inert(page)


@pytest.fixture
def hostile_team(team, owner):
    """The team renamed, with a member whose name is markup and a formula, who made something."""
    team.name = TEAM_NAME
    team.save()
    owner.is_staff = owner.is_superuser = True
    owner.save()
    member = make_user(USERNAME, team)
    made = make_generation(team, member, prompt=PROMPT, status=Status.COMPLETED, images_delivered=1)
    stored_image(made, 0)
    return member


def test_a_hostile_team_name_username_and_invitation_note_stay_text_on_every_team_page(
    hostile, live_server, team, owner, hostile_team
):
    page = hostile.new_page(live_server, owner)
    expect_literal(page.get_by_role("navigation", name="Account"), TEAM_NAME)
    expect_literal(page.locator("#history"), BREAKOUT, XSS, TEMPLATE)
    hostile.assert_inert(page)

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TEAM_NAME)
    expect_literal(page.get_by_role("region", name="Members"), USERNAME)
    page.get_by_label(f"Role of {USERNAME}", exact=True).select_option(label="Viewer")
    page.get_by_role("button", name=f"Change role of {USERNAME}").click()
    expect(page.get_by_label(f"Role of {USERNAME}", exact=True)).to_have_value("viewer")
    page.get_by_label("For whom").fill(NOTE)
    page.get_by_role("button", name="Create invitation link").click()
    expect(page.get_by_role("textbox", name=f"Link to join as Member ({NOTE})")).to_be_visible()
    expect_literal(page.get_by_role("region", name="Pending invitations"), NOTE)
    hostile.assert_inert(page)

    page.goto(f"{live_server.url}{reverse('studio:usage')}")
    expect_literal(page.get_by_role("main"), USERNAME)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [row[1] for row in rows[1:]] == [f"'{USERNAME}"]  # a spreadsheet shows it, never runs it
    hostile.assert_inert(page)

    page.goto(f"{live_server.url}{reverse('teams:audit')}")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_CHANGED).exists()
    expect_literal(page.get_by_role("main"), USERNAME)
    hostile.assert_inert(page)

    for name in ("studio:key", "studio:budgets", "teams:create"):
        page.goto(f"{live_server.url}{reverse(name)}")
        hostile.assert_inert(page)

    for model in ("teams/team", "auth/user", "teams/invitation", "teams/auditevent", "generations/generation"):
        page.goto(f"{live_server.url}/admin/{model}/")
        hostile.assert_inert(page)
    expect_literal(page.get_by_role("main"), XSS)  # the generations, by their prompts
    page.goto(f"{live_server.url}/admin/teams/team/")
    expect_literal(page.get_by_role("main"), TEAM_NAME)
    page.goto(f"{live_server.url}/admin/teams/invitation/")
    expect_literal(page.get_by_role("main"), NOTE)
    page.goto(f"{live_server.url}/admin/auth/user/")
    expect_literal(page.get_by_role("main"), USERNAME)
    assert Membership.objects.get(user=hostile_team).role == Membership.Role.VIEWER


def test_the_watch_sees_markup_that_got_through(hostile, watch, live_server, owner):
    """The proof above can fail: markup put into a page is found, and its handler is refused."""
    watch.expect_console_error("Content Security Policy")
    watch.expect_console_error("Failed to load resource")  # the injected image's src=x
    page = hostile.new_page(live_server, owner)
    page.evaluate(f"document.querySelector('main').insertAdjacentHTML('beforeend', {XSS!r})")
    expect(page.locator("img[src='x']")).to_have_count(1)
    with pytest.raises(AssertionError):
        hostile.assert_inert(page)
    assert hostile.dialogs == []  # the CSP refused to run the handler
    for _tick in range(50):  # the report comes back through Playwright's event loop
        if hostile.violations:
            break
        page.wait_for_timeout(100)
    assert any("script-src" in violation for violation in hostile.violations)
