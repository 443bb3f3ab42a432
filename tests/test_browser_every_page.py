"""Every page in Chromium, at a desktop's size (1440 × 900) and a phone's (390 × 844), light
and dark: axe-core finds no serious or critical accessibility fault, and on the phone neither
the page nor a table in it scrolls sideways. The pages and their rows are tests/tour.py's."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from .tour import PAGES, Tabs, Tour

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


# The tables wider than the box that shows them, which then scrolls sideways on its own.
WIDE_TABLES = """() => [...document.querySelectorAll("table")].flatMap((table) => {
  let box = table.parentElement;
  while (box && box !== document.body && getComputedStyle(box).overflowX === "visible") box = box.parentElement;
  const scrolls = box && box !== document.body && box.scrollWidth > box.clientWidth + 1;
  const name = table.id || table.className || "table";
  return scrolls ? [`${name}: ${box.scrollWidth} px in a box of ${box.clientWidth} px`] : [];
})"""


LOOKS = [(viewport, scheme) for viewport in ("desktop", "phone") for scheme in ("light", "dark")]


@pytest.mark.parametrize("name", PAGES)
def test_the_page_has_no_serious_accessibility_fault_and_fits_a_phone(tour, name):
    """No serious axe-core finding on a desktop and a phone, light and dark; on the phone
    neither the page nor a table in it scrolls sideways."""
    reports = []
    for viewport, scheme in LOOKS:
        page = tour.visit(name, viewport, scheme)
        faults = [found for found in axe.run(page).response["violations"] if found["impact"] in SERIOUS]
        if faults:
            reports.append(f"-- {name} ({viewport}, {scheme}) at {page.url}:\n{readable(faults)}")
    assert not reports, "\n".join(reports)
    measured = page.evaluate(MEASURE_WIDTH)  # on the last look, the phone's
    assert measured["scrollWidth"] <= measured["width"], (
        f"{name} is {measured['scrollWidth']} px wide on a {measured['width']} px screen; "
        f"sticking out: {', '.join(measured['sticking'])}"
    )
    # Tables become stacked rows on a phone rather than a box to scroll sideways.
    wide = page.evaluate(WIDE_TABLES)
    assert not wide, f"{name}, tables that scroll sideways: {'; '.join(wide)}"
