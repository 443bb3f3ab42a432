"""A tour of every page, for the browser tests that look at each one in turn (accessibility,
sideways scrolling): what a signed-in owner sees, and what a signed-out person sees.

The rows are made for each test (finished generations from rows: no generation is run); the
browser tabs, one signed in and one signed out for each (viewport, colour scheme), are opened
once for the module and reused, signed in again with a session cookie for each test's rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from playwright.sync_api import Page, expect

from playground.batches.models import Batch, BatchRow
from playground.generations.models import Lane, Status
from playground.library import prompts as library
from playground.teams import audit, invitations
from playground.teams.models import Invitation, Membership, Team

from .browser import session_cookie
from .conftest import make_generation, make_user
from .finished import finished_generation

Role = Membership.Role

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}

# Every page of the app, by name (parametrized tests need the names before any row exists),
# and the dialogs the playground opens.
PAGES = (
    "playground", "lightbox", "show as code", "mask painter", "history gallery", "history list", "details", "details of a batch row",
    "compare", "key", "usage", "budgets", "members", "audit log", "new team", "invitation", "not found", "login", "sign-up",
    "dead invitation link", "library", "library picker", "save prompt", "edit a saved prompt",
    "new batch", "batch preview", "batches", "batch",
)


@dataclass(frozen=True)
class Stop:
    """A page of the tour: its address, whether it is seen signed in, and what is then done
    on it (opening a dialog, say)."""

    path: str
    signed_in: bool = True
    then: Callable[[Page], None] | None = None


def open_lightbox(page):
    page.locator("a[data-lightbox]").first.click()
    expect(page.locator("dialog[open]")).to_be_visible()


def show_as_code(page):
    page.get_by_role("button", name="Show as code").click()
    expect(page.get_by_text("curl").first).to_be_visible()


def edit_a_region(page):
    page.locator("#result").get_by_role("button", name="Edit a region of image 1").click()
    expect(page.get_by_role("dialog", name="Paint the area to change")).to_be_visible()


def open_library_picker(page):
    page.get_by_role("button", name="Library").click()
    expect(page.get_by_role("dialog", name="Insert a prompt from the library")).to_be_visible()


def save_the_prompt(page):
    page.get_by_role("button", name="Save prompt").click()
    expect(page.get_by_role("dialog", name="Save the prompt in the library")).to_be_visible()


BATCH_TEMPLATE = "A {{product}} on a {{surface}}, soft studio light, {{angle}} view"
BATCH_FILE = (
    "product,surface,angle,n\nred mug,oak table,top,1\nglass vase,marble,side,7\n"
    "=HYPERLINK(\"x\"),slate,top,2\n,,,\nlamp,,side,1\n"
)


def preview_a_batch_file(page):
    """A file with a row of each kind: ready, a bad n, a formula, an empty one, a missing value."""
    page.get_by_label("Batch name").fill("Spring mugs")
    page.get_by_text("A CSV or TSV file").click()
    upload = {"name": "mugs.csv", "mimeType": "text/csv", "buffer": BATCH_FILE.encode()}
    page.get_by_label("CSV or TSV file", exact=True).set_input_files(upload)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#batch-preview table")).to_be_visible()


def stops(rows):
    """Every page of PAGES, for the rows `make_rows` made."""
    generations = reverse("studio:generations")
    latest, older = rows["latest"].public_id, rows["older"].public_id
    invitation = reverse("teams:accept-invitation", args=[rows["invitation_token"]])
    return {
        "playground": Stop(reverse("studio:playground")),  # the owner's latest generation on the stage
        "lightbox": Stop(reverse("studio:playground"), then=open_lightbox),  # its first image
        "show as code": Stop(reverse("studio:playground"), then=show_as_code),
        "mask painter": Stop(reverse("studio:playground"), then=edit_a_region),  # on its first image
        "history gallery": Stop(generations),
        "history list": Stop(f"{generations}?layout=list"),
        "details": Stop(reverse("studio:generation-detail", args=[latest])),
        "details of a batch row": Stop(reverse("studio:generation-detail", args=[rows["batch_row"].public_id])),
        "compare": Stop(f"{reverse('studio:compare')}?generation={latest}&generation={older}"),
        "key": Stop(reverse("studio:key")),
        "usage": Stop(reverse("studio:usage")),
        "budgets": Stop(reverse("studio:budgets")),
        "members": Stop(reverse("teams:members")),
        "audit log": Stop(reverse("teams:audit")),
        "new team": Stop(reverse("teams:create")),
        "invitation": Stop(invitation),  # another team's, with its Join button
        "not found": Stop("/no-such-page"),
        "login": Stop(reverse("login"), signed_in=False),
        "sign-up": Stop(invitation, signed_in=False),  # an invitation opened signed out: make an account
        "dead invitation link": Stop(reverse("teams:accept-invitation", args=["x" * 43]), signed_in=False),
        "library": Stop(reverse("library:library")),  # a template, a long prompt, a private one
        "library picker": Stop(reverse("studio:playground"), then=open_library_picker),
        "save prompt": Stop(reverse("studio:playground"), then=save_the_prompt),
        "edit a saved prompt": Stop(reverse("library:edit", args=[rows["saved_prompt"].pk])),
        "new batch": Stop(f"{reverse('studio:batch-new')}?{urlencode({'template': BATCH_TEMPLATE})}"),
        "batch preview": Stop(f"{reverse('studio:batch-new')}?{urlencode({'template': BATCH_TEMPLATE})}",
                              then=preview_a_batch_file),
        "batches": Stop(reverse("studio:batches")),
        "batch": Stop(reverse("studio:batch", args=[rows["batch"].public_id])),  # done, failed, waiting and skipped rows
    }


def make_rows():
    """A team with an owner and a member, finished generations and a failed one, a finished batch, a budget,
    a pending invitation, and another team's invitation for the owner."""
    team = Team.objects.create(name="Acme studio", slug="acme")
    owner = make_user("olivia", team, Role.OWNER)
    tom = make_user("tom", team)
    rival = Team.objects.create(name="Rival inc", slug="rival")
    oscar = make_user("oscar", rival, Role.OWNER)
    batch = started_batch(team, tom)
    older = finished_generation(team, tom, prompt="a lighthouse at dusk, oil on canvas", size="2:3")
    make_generation(
        team, owner, prompt="a famous cartoon mouse", status=Status.FAILED,
        error_code="content_policy_violation", error_message="The prompt was refused by the content policy.",
    )
    latest = finished_generation(
        team, owner, prompt="a red bicycle leaning on a yellow wall, morning light", size="3:2", n=2
    )
    audit.budget_changed(team, owner, None, None, Decimal("500"))
    invitations.issue(Membership.objects.get(team=team, user=owner), Role.MEMBER, "Nina from the print shop")
    _invitation, token = Invitation.issue(rival, oscar, Role.MEMBER, "Olivia")
    saved_prompt = saved_prompts(team, owner, tom)
    return {"owner": owner, "batch": batch, "batch_row": batch.rows.get(number=2).generation, "latest": latest, "older": older, "invitation_token": token, "saved_prompt": saved_prompt}


def started_batch(team, tom):
    """Tom's batch of four rows: one done with two images, one failed, one waiting, one skipped."""
    batch = Batch.objects.create(team=team, created_by=tom, name="Spring catalogue", size="1:1", n=2, source_name="products.csv",
                                 template="A {{product}} on a {{surface}}, soft studio light")
    rows = [("mug", "oak", {"status": Status.COMPLETED}),
            ("vase", "marble", {"status": Status.FAILED, "error_message": "The prompt was refused by the content policy."}),
            ("lamp", "slate", {"status": Status.WAITING, "lane": Lane.BATCH})]
    for number, (product, surface, fields) in enumerate(rows, start=2):
        prompt = f"A {product} on a {surface}, soft studio light"
        make = finished_generation if fields["status"] == Status.COMPLETED else make_generation
        generation = make(team, tom, prompt=prompt, n=2, batch=batch, **fields)
        BatchRow.objects.create(batch=batch, number=number, values={"product": product, "surface": surface},
                                prompt=prompt, generation=generation)
    BatchRow.objects.create(batch=batch, number=5, values={"product": "=HYPERLINK(1)", "surface": ""},
                            prompt="A =HYPERLINK(1) on a , soft studio light", skipped="Choose 1, 2 or 4 images.")
    return batch


def saved_prompts(team, owner, tom):
    """The team's library: a template of the owner's, a long prompt of Tom's (used), a private one."""
    owners, toms = Membership.objects.get(team=team, user=owner), Membership.objects.get(team=team, user=tom)
    template = library.save(owners, title="Product on a surface", text="A {{product}} on a {{surface}}, soft studio light, {{angle}} view",
                            tags=["product", "studio light"], shared=True)
    used = library.save(toms, title="Lighthouse at dawn", tags=["landscape"], shared=True, text=(
        "A lighthouse on a cliff at dawn, watercolour, soft light, gulls over the sea, the waves crashing on the rocks "
        "below, a long exposure, fog rolling in from the horizon, muted blues and warm golds"))
    library.mark_used(used)
    library.save(owners, title="My draft", text="Moody neon street at night, rain", tags=[], shared=False)
    return template


class Tabs:
    """Browser tabs kept for the module: a signed-in and a signed-out one per (viewport, scheme)."""

    def __init__(self, browser):
        self.browser = browser
        self.contexts = {}

    def tab(self, viewport, scheme, signed_in):
        key = (viewport, scheme, signed_in)
        if key not in self.contexts:
            context = self.browser.new_context(**VIEWPORTS[viewport], color_scheme=scheme)
            self.contexts[key] = (context, context.new_page())
        return self.contexts[key]

    def close(self):
        for context, _page in self.contexts.values():
            context.close()


class Tour:
    """One test's rows on the live server; `visit(name, viewport, scheme)` opens a page in its tab."""

    def __init__(self, tabs, server_url):
        self.tabs = tabs
        self.url = server_url
        self.rows = make_rows()
        self.stops = stops(self.rows)
        self.cookie = session_cookie(self.rows["owner"], server_url)
        self.ready = set()  # the tabs signed in (or out) for this test's rows

    def visit(self, name, viewport, scheme):
        stop = self.stops[name]
        key = (viewport, scheme, stop.signed_in)
        context, page = self.tabs.tab(*key)
        if key not in self.ready:
            context.clear_cookies()
            if stop.signed_in:
                context.add_cookies([self.cookie])
            self.ready.add(key)
        page.goto(self.url + stop.path)
        # What htmx loads with the page (the Usage balance, say) is part of it.
        expect(page.locator(".htmx-request")).to_have_count(0)
        if stop.then:
            stop.then(page)
            expect(page.locator(".htmx-request")).to_have_count(0)
        return page
