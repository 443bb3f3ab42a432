"""The New batch page in headless Chromium: a list for each variable as the template is typed,
with the count of combinations; a file's preview with each problem beside its row, the file
still chosen; a refused start that says why beside the checkbox; and a start that lands on
the batch's page. Start batch waits for a preview, and a change since it asks for another."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from playground.batches.models import Batch
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def nothing_let_out(settings):
    settings.TEAM_TASKS_IN_FLIGHT = 0  # the started rows wait in the line: nothing is sent


def test_new_batch_beside_the_composer_takes_the_template_being_written_along(page):
    page.locator("#id_prompt").fill("A {{product}} on a {{surface}}")
    page.get_by_role("link", name="New batch").click()
    expect(page.get_by_role("heading", name="New batch")).to_be_visible()
    expect(page.get_by_label("Template", exact=True)).to_have_value("A {{product}} on a {{surface}}")
    expect(page.get_by_label("{{surface}}")).to_be_visible()


@pytest.fixture
def batch_page(page, live_server):
    page.goto(live_server.url + reverse("studio:batch-new"))
    expect(page.get_by_role("heading", name="New batch")).to_be_visible()
    return page


def test_typing_a_template_brings_a_list_for_each_variable_and_counts_the_combinations(batch_page):
    page = batch_page
    page.get_by_label("Template", exact=True).fill("A {{product}} on a {{surface}}")

    product, surface = page.get_by_label("{{product}}"), page.get_by_label("{{surface}}")
    expect(product).to_be_visible()
    expect(surface).to_be_visible()
    product.fill("red mug\nglass vase\nlamp")
    surface.fill("oak\nmarble")
    expect(page.locator("#combination-count")).to_have_text("6 combinations")

    page.get_by_label("Template", exact=True).fill("A {{product}} in {{room}}, {{light}} light")
    expect(page.get_by_label("{{light}}")).to_be_visible()
    expect(page.get_by_label("{{surface}}")).to_have_count(0)
    expect(page.get_by_label("{{product}}")).to_have_value("red mug\nglass vase\nlamp")  # kept while typing
    expect(page.locator("#combination-count")).to_have_text("0 combinations")


def test_a_files_preview_shows_each_problem_beside_its_row_and_the_start_lands_on_the_batch(batch_page, tmp_path):
    page = batch_page
    rows = tmp_path / "mugs.csv"
    rows.write_text("product;surface;n\nred mug;oak;1\nglass vase;marble;7\nlamp;slate;2\n")
    page.get_by_label("Batch name").fill("Spring mugs")
    page.get_by_label("Template", exact=True).fill("A {{product}} on a {{surface}}")
    page.get_by_text("A CSV or TSV file").click()
    expect(page.locator("#file-columns code")).to_have_text(["product", "surface", "size", "n", "reference"])
    page.get_by_label("CSV or TSV file", exact=True).set_input_files(rows)
    expect(page.get_by_role("button", name="Start batch")).to_be_disabled()
    expect(page.locator("#start-hint")).to_have_text("Press Preview first: Start batch sends what the preview shows.")

    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#batch-preview")
    expect(preview.get_by_role("status")).to_contain_text("3 prompts")
    problem_row = preview.get_by_role("row").filter(has_text="glass vase")
    expect(problem_row).to_contain_text("Choose 1, 2 or 4 images.")
    expect(preview.get_by_role("row").filter(has_text="red mug")).not_to_contain_text("Choose")
    expect(preview).to_contain_text("1 row has a problem")
    assert page.locator("#id_file").evaluate("input => input.files[0].name") == "mugs.csv"  # still chosen

    page.get_by_role("button", name="Start batch").click()  # the row with a problem is not skipped yet
    expect(page.locator("#skip_problems-error")).to_have_text("Fix the rows with problems, or choose to skip them.")
    expect(page.get_by_label("Skip rows with problems")).to_have_attribute("aria-invalid", "true")
    assert not Batch.objects.exists() and not Generation.objects.exists()

    page.get_by_label("Skip rows with problems").check()
    page.get_by_role("button", name="Start batch").click()

    page.wait_for_url(lambda url: "/batches/" in url and not url.endswith("/new"))
    batch = Batch.objects.get()
    assert page.url.endswith(reverse("studio:batch", args=[batch.public_id]))
    assert (batch.name, batch.source_name, batch.generations.count()) == ("Spring mugs", "mugs.csv", 2)


def test_a_change_after_the_preview_asks_for_a_new_one_and_one_more_click_starts_it(batch_page):
    page = batch_page
    page.get_by_label("Batch name").fill("Spring mugs")
    page.get_by_label("Template", exact=True).fill("A {{product}} on a {{surface}}")
    page.get_by_label("{{product}}").fill("red mug")
    page.get_by_label("{{surface}}").fill("oak")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#batch-preview")
    expect(preview.get_by_role("status")).to_contain_text("1 prompt")
    expect(page.locator("#start-hint")).to_be_hidden()

    page.get_by_label("{{surface}}").fill("oak\nmarble")
    page.get_by_role("button", name="Start batch").click()

    expect(page.locator("#preview_token-error")).to_have_text("Preview the batch again: it has changed since its preview.")
    expect(preview.get_by_role("status")).to_contain_text("2 prompts")  # the batch as it now is
    assert not Batch.objects.exists() and not Generation.objects.exists()
    expect(page.get_by_role("button", name="Start batch")).to_be_focused()
    page.keyboard.press("Enter")  # one more press starts it

    page.wait_for_url(lambda url: "/batches/" in url and not url.endswith("/new"))
    assert sorted(Batch.objects.get().generations.values_list("prompt", flat=True)) == [
        "A red mug on a marble", "A red mug on a oak",
    ]
