"""Every page in Chromium, at a desktop's size (1440 × 900) and a phone's (390 × 844), light
and dark: axe-core finds no serious or critical accessibility fault, and on the phone neither
the page nor a table in it scrolls sideways. The pages and their rows are tests/tour.py's."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from .tour import PAGES, SCHEMES, VIEWPORTS, Tabs, Tour

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}
axe = Axe()


@pytest.fixture(scope="module")
def tabs(browser):
    kept = Tabs(browser)
    yield kept
    kept.close()


@pytest.fixture
def tour(tabs, live_server):
    return Tour(tabs, live_server.url)


def readable(violations):
    """axe-core's findings as lines: rule, impact and what to do, then each element and why."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"  at {' '.join(map(str, node['target']))}")
            lines.append(f"     {node['html'][:240]}")
            lines += [f"     {line.strip()}" for line in node["failureSummary"].splitlines()[1:]]
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_the_page_has_no_serious_accessibility_fault(tour, name):
    """On a desktop and a phone, light and dark."""
    reports = []
    for viewport in VIEWPORTS:
        for scheme in SCHEMES:
            page = tour.visit(name, viewport, scheme)
            faults = [found for found in axe.run(page).response["violations"] if found["impact"] in SERIOUS]
            if faults:
                reports.append(f"-- {name} ({viewport}, {scheme}) at {page.url}:\n{readable(faults)}")
    assert not reports, "\n".join(reports)


# The width of the page and the outermost elements that stick out past the screen (those
# inside a box that scrolls or clips on its own move nothing).
MEASURE_WIDTH = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const out = [...document.body.querySelectorAll("*")].filter(
    (el) => el.getBoundingClientRect().right > width + 0.5 && !clipped(el));
  const outermost = out.filter((el) => !out.includes(el.parentElement));
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  return {
    width,
    scrollWidth: document.documentElement.scrollWidth,
    sticking: outermost.slice(0, 5).map((el) => `${name(el)} to ${Math.round(el.getBoundingClientRect().right)} px`),
  };
}"""


# What still scrolls sideways on a phone, and why: the redesign of each page removes its entry
# (strict: a page that no longer fails fails its test until then).
PAGE_SCROLLS_SIDEWAYS_TODAY = {}
TABLE_SCROLLS_SIDEWAYS_TODAY = {}


def on_phones(known_faults, fault):
    """PAGES, each known to fail today marked so."""
    return [
        pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=f"{fault} today: {known_faults[name]}")])
        if name in known_faults else name
        for name in PAGES
    ]


@pytest.mark.parametrize("name", on_phones(PAGE_SCROLLS_SIDEWAYS_TODAY, "scrolls sideways"))
def test_the_page_does_not_scroll_sideways_on_a_phone(tour, name):
    page = tour.visit(name, "phone", "light")
    measured = page.evaluate(MEASURE_WIDTH)
    assert measured["scrollWidth"] <= measured["width"], (
        f"{name} is {measured['scrollWidth']} px wide on a {measured['width']} px screen; "
        f"sticking out: {', '.join(measured['sticking'])}"
    )


# The tables wider than the box that shows them, which then scrolls sideways on its own.
WIDE_TABLES = """() => [...document.querySelectorAll("table")].flatMap((table) => {
  let box = table.parentElement;
  while (box && box !== document.body && getComputedStyle(box).overflowX === "visible") box = box.parentElement;
  const scrolls = box && box !== document.body && box.scrollWidth > box.clientWidth + 1;
  const name = table.id || table.className || "table";
  return scrolls ? [`${name}: ${box.scrollWidth} px in a box of ${box.clientWidth} px`] : [];
})"""


@pytest.mark.parametrize("name", on_phones(TABLE_SCROLLS_SIDEWAYS_TODAY, "a table scrolls sideways"))
def test_no_table_scrolls_sideways_on_a_phone(tour, name):
    """Tables become stacked rows on a phone rather than a box to scroll sideways."""
    page = tour.visit(name, "phone", "light")
    wide = page.evaluate(WIDE_TABLES)
    assert not wide, f"{name}, tables that scroll sideways: {'; '.join(wide)}"
