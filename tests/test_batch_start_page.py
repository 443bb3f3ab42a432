"""The New batch page: the template and its values or file, the preview, and the start.

Nothing is stored before Start batch, and a refused start leaves nothing behind: no batch,
no generation, no reserved credit (the file is never kept). Start batch sends only what a
preview showed, and a preview starts one batch at most."""

import codecs
import html
import re
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from playground.batches import runs
from playground.batches.models import Batch, BatchRow
from playground.generations import credits
from playground.generations.models import Generation, Lane, Status
from playground.library import prompts as library
from playground.teams.models import Membership

from .conftest import make_user
from .finished import stored_reference

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TEMPLATE = "A {{product}} on a {{surface}}"
CSV = "product,surface\nred mug,oak\nglass vase,marble\n"


@pytest.fixture(autouse=True)
def nothing_let_out(settings):
    """Every started row waits in the line: nothing is sent in these tests."""
    settings.TEAM_TASKS_IN_FLIGHT = 0


def csv_file(text=CSV, name="rows.csv", encoding="utf-8"):
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return SimpleUploadedFile(name, data, content_type="text/csv")


def from_values(**values):
    fields = {"name": "Spring mugs", "template": TEMPLATE, "source": "values", "size": "1:1", "n": "1"}
    fields.update({f"values-{name}": text for name, text in values.items()})
    return fields


def from_file(upload=None, **fields):
    return {
        "name": "Spring mugs", "template": TEMPLATE, "source": "file", "size": "1:1", "n": "1",
        "file": upload or csv_file(), **fields,
    }


def text(response):
    """The words of the answer, tags left out."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", response.content.decode())).strip())


def beside(answer, name):
    """The message in the place beside a field (an htmx answer brings it out of band)."""
    page = answer if isinstance(answer, str) else answer.content.decode()
    return html.unescape(re.search(rf'<div id="{name}-feedback".*?</div>', page, re.DOTALL).group(0))


def nothing_stored(team):
    assert not Batch.objects.exists() and not BatchRow.objects.exists() and not Generation.objects.exists()
    assert credits.spent(credits.this_month(team)) == 0
    try:
        folders, files = default_storage.listdir("")
    except FileNotFoundError:  # nothing was ever written to the media folder
        return
    assert (folders, files) == ([], [])  # the uploaded file is never kept


def rewound(data):
    """The form's data, its file ready to be read again (as a browser sends it again)."""
    for value in data.values():
        if hasattr(value, "seek"):
            value.seek(0)
    return data


def preview(client, data, htmx=True):
    return client.post(reverse("studio:batch-preview"), rewound(data), headers=HTMX if htmx else {})


def token(answer):
    """The token the answer gives the Start button; None when it gives none."""
    found = re.search(r'<input type="hidden" name="preview_token" value="([^"]+)">', answer.content.decode())
    return found and found.group(1)


def previewed(client, data):
    """The form as the preview leaves it: with the token its Start button sends."""
    return {**data, "preview_token": token(preview(client, data))}


def start(client, data, htmx=False, **options):
    return client.post(reverse("studio:batch-new"), rewound(data), headers=HTMX if htmx else {}, **options)


def start_button(answer):
    return re.search(r'<button type="submit" id="start-batch".*?>', answer.content.decode(), re.DOTALL).group(0)


# -- the page -------------------------------------------------------------------------------


def test_the_page_opens_with_the_template_given_and_says_the_row_limit(owner_client, settings):
    settings.BATCH_MAX_ROWS = 321
    response = owner_client.get(reverse("studio:batch-new"), {"template": TEMPLATE})
    page = response.content.decode()
    assert response.status_code == 200
    assert "A {{product}} on a {{surface}}</textarea>" in page
    assert 'name="values-product"' in page and 'name="values-surface"' in page
    assert "A batch has at most 321 prompts." in text(response)


def test_a_viewer_gets_a_403_and_a_signed_out_person_is_sent_to_sign_in(client, team):
    client.force_login(make_user("vera", team, Membership.Role.VIEWER))
    assert client.get(reverse("studio:batch-new")).status_code == 403
    assert preview(client, from_values(product="mug", surface="oak")).status_code == 403
    assert start(client, from_values(product="mug", surface="oak")).status_code == 403
    client.logout()
    assert client.get(reverse("studio:batch-new")).status_code == 302
    assert preview(client, from_values(product="mug", surface="oak")).status_code == 403
    nothing_stored(team)


def test_typing_a_template_brings_a_list_for_each_variable_keeping_what_was_typed(owner_client):
    response = preview(owner_client, {"refresh": "variables", "template": "A {{product}} in {{room}}", "values-product": "mug\nvase"})
    page = response.content.decode()
    assert 'name="values-product"' in page and 'name="values-room"' in page and 'name="values-surface"' not in page
    assert "mug\nvase</textarea>" in page
    assert "0 combinations" in text(response)
    assert 'id="file-columns"' in page and "<code class=\"variable-chip\">room</code>" in page


def test_the_count_of_combinations_follows_the_lists(owner_client):
    response = preview(owner_client, {"refresh": "count", **from_values(product="mug\nvase\nlamp", surface="oak\n\nslate")})
    assert "6 combinations" in text(response)


def test_a_template_of_the_library_starts_a_batch_and_counts_as_used(owner_client, owner):
    saved = library.save(owner.memberships.get(), title="Product", text=TEMPLATE, tags=[], shared=True)
    page = owner_client.get(reverse("library:library")).content.decode()
    link = f"{reverse('studio:batch-new')}?saved={saved.pk}"
    assert f'href="{link}"' in page

    opened = owner_client.get(link)

    assert 'name="values-product"' in opened.content.decode() and TEMPLATE in html.unescape(text(opened))
    saved.refresh_from_db()
    assert saved.last_used_at is not None  # the library says when it was last used


def test_another_teams_saved_prompt_opens_an_empty_batch_page(owner_client, outsider):
    theirs = library.save(outsider.memberships.get(), title="Theirs", text="A {{secret}} plan", tags=[], shared=True)
    opened = owner_client.get(reverse("studio:batch-new"), {"saved": theirs.pk})
    assert opened.status_code == 200 and "secret" not in opened.content.decode()
    assert "That saved prompt is no longer in the library." in text(opened)
    theirs.refresh_from_db()
    assert theirs.last_used_at is None


def test_the_playground_links_to_a_new_batch(owner_client):
    assert f'href="{reverse("studio:batch-new")}"' in owner_client.get(reverse("studio:playground")).content.decode()


# -- the preview ------------------------------------------------------------------------------


def test_the_preview_lists_the_prompts_and_what_they_reserve_and_stores_nothing(owner_client, team, settings):
    settings.CREDITS_PER_IMAGE = 1.5
    response = preview(owner_client, {**from_values(product="mug\nvase", surface="oak\nmarble"), "n": "2"})
    words = text(response)
    assert response.status_code == 200
    assert "4 prompts" in words and "8 images" in words and "12 credits reserved" in words
    for prompt in ("A mug on a oak", "A mug on a marble", "A vase on a oak", "A vase on a marble"):
        assert prompt in words
    assert "No monthly budget is set" in words
    nothing_stored(team)


def test_the_preview_shows_the_first_50_prompts_and_the_total(owner_client):
    products = "\n".join(f"product {number}" for number in range(60))
    words = text(preview(owner_client, from_values(product=products, surface="oak\nmarble")))
    assert "120 prompts" in words and "The first 50 of 120 prompts" in words and "And 70 more" in words
    assert "A product 24 on a marble" in words and "A product 25 on a oak" not in words


def test_the_preview_counts_against_both_budgets_and_refuses_with_the_numbers(owner_client, team, owner, settings):
    settings.CREDITS_PER_IMAGE = 1
    team.monthly_budget = 10
    team.save(update_fields=["monthly_budget"])
    Membership.objects.filter(user=owner).update(monthly_budget=3)

    words = text(preview(owner_client, from_values(product="mug\nvase", surface="oak\nmarble")))

    assert "The team has 10 of 10 credits left this month. After this batch: 6." in words
    assert "You have 3 of 3 credits left this month." in words
    assert "This batch needs 4 credits, but your monthly budget has 3 of 3 credits left." in words
    nothing_stored(team)


def test_a_row_with_a_problem_shows_it_beside_its_column(owner_client, team):
    upload = csv_file("product,surface,reference\nmug,oak,\nvase,marble,nowhere.png\n")
    response = preview(owner_client, from_file(upload))
    page = response.content.decode()
    row = re.search(r"<tr class=\"has-problem\">.*?</tr>", page, re.DOTALL).group(0)
    assert "vase" in row and "There is no reference image named “nowhere.png” in this team." in row
    assert re.search(r'class="cell-reference has-problem">.*?nowhere\.png', row, re.DOTALL)
    assert "1 row has a problem" in text(response)
    nothing_stored(team)


def test_a_formula_cell_is_shown_as_text_with_a_note(owner_client):
    upload = csv_file('product,surface\n"=HYPERLINK(""http://x.example"",""mug"")",oak\n')
    words = text(preview(owner_client, from_file(upload)))
    assert 'A =HYPERLINK("http://x.example","mug") on a oak' in words
    assert "“product” starts with “=”: it is used as text, never run as a formula." in words


def test_empty_rows_are_skipped_with_a_note(owner_client):
    words = text(preview(owner_client, from_file(csv_file("product,surface\nmug,oak\n,\nvase,marble\n"))))
    assert "1 empty row was skipped (row 3)." in words and "2 prompts" in words


def test_a_utf16_file_is_read(owner_client):
    upload = csv_file(codecs.BOM_UTF16_LE + "product\tsurface\nçay glass\tslate\n".encode("utf-16-le"), "rows.tsv")
    assert "A çay glass on a slate" in text(preview(owner_client, from_file(upload)))


def test_a_semicolon_separated_file_is_read(owner_client):
    upload = csv_file("product;surface\nred mug;oak, dark\n")
    assert "A red mug on a oak, dark" in text(preview(owner_client, from_file(upload)))


def test_a_byte_order_mark_and_a_quoted_newline_are_read(owner_client):
    upload = csv_file(codecs.BOM_UTF8 + 'product,surface\n"mug\nwith a lid",oak\n'.encode())
    words = text(preview(owner_client, from_file(upload)))
    assert "A mug with a lid on a oak" in words and "1 prompt" in words


def test_a_prompt_over_the_limit_once_filled_is_a_problem_of_its_row(owner_client, settings):
    settings.PROMPT_MAX_LENGTH = 30
    words = text(preview(owner_client, from_values(product="mug\n" + "very " * 10 + "long vase", surface="oak")))
    assert "The prompt is too long: at most 30 characters" in words and "1 row has a problem" in words


def test_a_missing_column_is_said_beside_the_file_field(owner_client, team):
    response = preview(owner_client, from_file(csv_file("product\nmug\n")))
    page = response.content.decode()
    feedback = beside(page, "file")
    assert 'hx-swap-oob="true"' in feedback and 'id="file-error"' in feedback
    assert "There is no column “surface” for {{surface}}." in feedback
    nothing_stored(team)


def test_too_many_rows_are_refused_naming_the_limit(owner_client, team, settings):
    settings.BATCH_MAX_ROWS = 3
    upload = csv_file("product,surface\n" + "".join(f"mug {number},oak\n" for number in range(4)))
    response = preview(owner_client, from_file(upload))
    assert "This makes 4 prompts; a batch takes at most 3." in text(response)
    response = preview(owner_client, from_values(product="a\nb", surface="c\nd"))
    feedback = beside(response, "values")
    assert "This makes 4 prompts; a batch takes at most 3." in feedback
    nothing_stored(team)


def test_a_template_without_variables_is_said_beside_the_template(owner_client):
    page = preview(owner_client, {**from_values(), "template": "A mug on oak"}).content.decode()
    feedback = beside(page, "template")
    assert "The template has no variables" in feedback


def test_a_file_is_asked_for_when_the_source_is_a_file(owner_client):
    page = preview(owner_client, {**from_file(), "file": ""}).content.decode()
    feedback = beside(page, "file")
    assert "Choose a CSV or TSV file" in feedback


def test_without_htmx_the_preview_is_the_whole_page(owner_client):
    response = preview(owner_client, from_values(product="mug", surface="oak"), htmx=False)
    page = response.content.decode()
    assert "<h1>New batch</h1>" in page and "A mug on a oak" in page


# -- the start ------------------------------------------------------------------------------


def test_start_reads_the_file_again_and_lands_on_the_batch(owner_client, team, owner):
    response = start(owner_client, previewed(owner_client, from_file(csv_file(), n="2", size="2:3")))

    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("studio:batch", args=[batch.public_id])
    assert (batch.name, batch.template, batch.source_name, batch.created_by) == ("Spring mugs", TEMPLATE, "rows.csv", owner)
    assert sorted(batch.generations.values_list("prompt", "size", "n", "lane", "status")) == [
        ("A glass vase on a marble", "2:3", 2, Lane.BATCH, Status.WAITING),
        ("A red mug on a oak", "2:3", 2, Lane.BATCH, Status.WAITING),
    ]


def test_an_htmx_start_is_sent_on_to_the_batch_page(owner_client):
    response = start(owner_client, previewed(owner_client, from_values(product="mug", surface="oak")), htmx=True)
    assert response["HX-Redirect"] == reverse("studio:batch", args=[Batch.objects.get().public_id])


def test_start_with_chosen_references_uses_them_for_every_row(owner_client, team, owner):
    reference = stored_reference(team, owner, "mug.png")
    chosen = {**from_values(product="mug\nvase", surface="oak"), "references": [str(reference.public_id)]}
    start(owner_client, previewed(owner_client, chosen))
    assert Generation.objects.count() == 2
    assert {tuple(generation.ordered_references()) for generation in Generation.objects.all()} == {(reference,)}


def test_rows_with_problems_stop_the_start_beside_the_checkbox_unless_skipped(owner_client, team):
    data = previewed(owner_client, from_file(csv_file("product,surface,n\nmug,oak,1\nvase,marble,7\n")))
    response = start(owner_client, data, htmx=True)
    page = response.content.decode()
    assert response.status_code == 422
    feedback = beside(page, "skip_problems")
    assert "Fix the rows with problems, or choose to skip them." in feedback
    nothing_stored(team)

    response = start(owner_client, {**data, "skip_problems": "on"})
    batch = Batch.objects.get()
    assert response.status_code == 302
    assert [(row.number, bool(row.generation), bool(row.skipped)) for row in batch.rows.all()] == [(2, True, False), (3, False, True)]


@pytest.mark.parametrize(
    ("upload", "said"),
    [
        ("product\nmug\n", "There is no column “surface” for {{surface}}."),
        ("product,surface\n" + "mug,oak\n" * 4, "a batch takes at most 3"),
        (b"\xff\xfeproduct", "The file is not UTF-8 or UTF-16 text."),
        ("product,surface,colour\nmug,oak,red\n", "The column “colour” is not a variable of the template"),
    ],
    ids=["missing column", "too many rows", "not text", "extra column"],
)
def test_a_start_with_a_bad_file_is_refused_beside_the_file_and_stores_nothing(owner_client, team, settings, upload, said):
    settings.BATCH_MAX_ROWS = 3
    response = start(owner_client, from_file(csv_file(upload)))
    page = response.content.decode()
    assert response.status_code == 422
    assert said in beside(page, "file")
    assert 'aria-describedby="file-help file-columns file-error" aria-invalid="true"' in page
    nothing_stored(team)


def test_a_start_the_budgets_cannot_cover_is_refused_with_the_numbers_and_stores_nothing(owner_client, team, settings):
    settings.CREDITS_PER_IMAGE = 1
    team.monthly_budget = 1
    team.save(update_fields=["monthly_budget"])

    response = start(owner_client, previewed(owner_client, from_values(product="mug\nvase", surface="oak")), htmx=True)

    feedback = beside(response, "form")
    assert "This batch needs 2 credits, but the team's monthly budget has 1 of 1 credits left." in feedback
    nothing_stored(team)


def test_a_start_without_a_name_or_values_is_refused_beside_each_field(owner_client, team):
    response = start(owner_client, {**from_values(product="mug", surface=""), "name": ""})
    page = response.content.decode()
    assert response.status_code == 422
    assert "Give the batch a name" in beside(page, "name")
    assert "Give at least one value for {{surface}}" in beside(page, "values")
    nothing_stored(team)


def test_a_template_with_a_bad_variable_refuses_the_start_beside_the_template(owner_client, team):
    response = start(owner_client, {**from_values(product="mug"), "template": "A {{product}} on {{a surface}}"})
    feedback = beside(response, "template")
    assert "{{a surface}} is not a variable" in feedback
    nothing_stored(team)


def test_a_viewer_cannot_start_a_batch_in_another_tab_either(client, team):
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    client.force_login(viewer)
    assert start(client, from_values(product="mug", surface="oak"), htmx=True).status_code == 403
    nothing_stored(team)


@pytest.mark.parametrize(
    "data",
    [
        {**from_values(product="mug", surface="oak"), "template": "A {{product}}\x00 on a {{surface}}"},
        {**from_file(), "file": "not a file"},
        {**from_values(**{f"v{number}": "\n".join(map(str, range(1000))) for number in range(12)}),
         "template": " ".join(f"{{{{v{number}}}}}" for number in range(12))},
        {**from_values(product="mug", surface="oak"), "size": "7:3", "n": "99", "references": ["not-a-uuid"]},
        {**from_values(product="mug", surface="oak"), "source": "elsewhere"},
    ],
    ids=["nul in the template", "a file that is text", "a huge count", "bad settings", "unknown source"],
)
def test_odd_input_is_refused_in_words_and_stores_nothing(owner_client, team, data):
    for answer in (preview(owner_client, data), start(owner_client, data, htmx=True), start(owner_client, data)):
        assert answer.status_code in (200, 422)
        assert 'class="error"' in answer.content.decode()
    nothing_stored(team)


def test_a_start_from_a_page_opened_for_another_team_sends_nothing(owner_client, team, owner, other_team):
    Membership.objects.create(team=other_team, user=owner, role=Membership.Role.OWNER)
    response = start(owner_client, {**from_values(product="mug", surface="oak"), "team": str(other_team.pk)}, htmx=True)
    assert response.headers["HX-Refresh"] == "true"
    nothing_stored(team)


def test_the_reference_field_on_the_batch_page_offers_no_mask(owner_client, team, owner):
    reference = stored_reference(team, owner, "mug.png")
    chosen = {"references": [str(reference.public_id)]}
    on_batch = owner_client.post(reverse("studio:references"), {**chosen, "without_mask": "1"}, headers=HTMX)
    in_playground = owner_client.post(reverse("studio:references"), chosen, headers=HTMX)
    assert "mug.png" in on_batch.content.decode() and "data-mask-editor" not in on_batch.content.decode()
    assert "data-mask-editor" in in_playground.content.decode()
    assert "data-mask-editor" not in owner_client.get(reverse("studio:batch-new")).content.decode()


# -- only what was previewed, and once ----------------------------------------------------------


def test_start_batch_waits_for_a_preview_and_says_so(owner_client):
    page = owner_client.get(reverse("studio:batch-new"), {"template": TEMPLATE})
    assert " disabled" in start_button(page) and token(page) is None
    assert "Press Preview first: Start batch sends what the preview shows." in text(page)

    answer = preview(owner_client, from_values(product="mug", surface="oak"))
    assert 'hx-swap-oob="true"' in start_button(answer) and " disabled" not in start_button(answer)
    assert token(answer) and "Press Preview first" not in text(answer)

    refused = preview(owner_client, {**from_values(product="mug"), "template": "A mug on oak"})
    assert " disabled" in start_button(refused) and token(refused) is None
    assert "Fix what the preview shows, then preview again." in text(refused)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "without javascript"])
def test_a_start_without_a_preview_is_refused_beside_the_button_with_the_preview_to_start_from(owner_client, team, htmx):
    data = from_values(product="mug\nvase", surface="oak")

    response = start(owner_client, data, htmx=htmx)

    assert response.status_code == 422
    assert "Preview the batch first to see what will be sent." in beside(response, "preview_token")
    assert "A mug on a oak" in text(response) and "A vase on a oak" in text(response)  # the preview, fresh
    nothing_stored(team)
    response = start(owner_client, {**data, "preview_token": token(response)}, htmx=htmx)  # one more click
    assert Batch.objects.get().generations.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        {"values-product": "mug\nvase"},
        {"template": "A {{product}} beside a {{surface}}"},
        {"size": "2:3"},
        {"n": "2"},
        {"source": "file", "file": csv_file("product,surface\nmug,oak\n")},
    ],
    ids=["values", "template", "size", "n", "source"],
)
def test_a_start_after_a_change_since_the_preview_is_refused_and_shows_the_batch_as_it_now_is(owner_client, team, change):
    seen = previewed(owner_client, from_values(product="mug", surface="oak"))

    response = start(owner_client, {**seen, **change}, htmx=True)

    assert response.status_code == 422
    assert "Preview the batch again: it has changed since its preview." in beside(response, "preview_token")
    assert token(response) not in (None, seen["preview_token"])
    nothing_stored(team)


def test_a_start_with_another_file_than_the_one_previewed_is_refused(owner_client, team):
    seen = previewed(owner_client, from_file(csv_file("product,surface\nmug,oak\n")))
    same_name = csv_file("product,surface\nmug,slate\n")
    response = start(owner_client, {**seen, "file": same_name})
    assert "Preview the batch again: it has changed since its preview." in beside(response, "preview_token")
    nothing_stored(team)


def test_references_chosen_after_the_preview_refuse_the_start(owner_client, team, owner):
    seen = previewed(owner_client, from_values(product="mug", surface="oak"))
    reference = stored_reference(team, owner, "mug.png")
    response = start(owner_client, {**seen, "references": [str(reference.public_id)]})
    assert "Preview the batch again" in beside(response, "preview_token")
    assert not Batch.objects.exists() and not Generation.objects.exists()


def test_a_new_name_or_skipping_the_rows_with_problems_needs_no_new_preview(owner_client):
    seen = previewed(owner_client, from_file(csv_file("product,surface,n\nmug,oak,1\nvase,marble,7\n")))
    start(owner_client, {**seen, "name": "Autumn mugs", "skip_problems": "on"})
    assert Batch.objects.get().name == "Autumn mugs"


def test_an_altered_a_teammates_or_an_old_token_is_refused(owner_client, team, teammate, monkeypatch):
    data = from_values(product="mug", surface="oak")
    seen = previewed(owner_client, data)
    altered = seen["preview_token"][:-2] + ("AA" if not seen["preview_token"].endswith("AA") else "BB")
    theirs = Client()
    theirs.force_login(teammate)
    real_time = time.time
    with monkeypatch.context() as earlier:
        earlier.setattr(time, "time", lambda: real_time() - 4 * 3600)  # previewed four hours ago
        old = previewed(owner_client, data)

    for client, sent in ((owner_client, altered), (theirs, seen["preview_token"]), (owner_client, old["preview_token"])):
        response = start(client, {**data, "preview_token": sent}, htmx=True)
        assert response.status_code == 422
        assert "Preview the batch again: it has changed since its preview." in beside(response, "preview_token")
    nothing_stored(team)


def test_the_same_preview_started_twice_makes_one_batch_and_goes_to_it(owner_client, team, settings):
    settings.CREDITS_PER_IMAGE = 1
    seen = previewed(owner_client, from_values(product="mug\nvase", surface="oak"))
    first = start(owner_client, seen)
    batch = Batch.objects.get()
    where = reverse("studio:batch", args=[batch.public_id])

    again = start(owner_client, seen, htmx=True)  # a double click
    resent = start(owner_client, seen, follow=True)  # the browser sends the form again

    assert first["Location"] == where and again["HX-Redirect"] == where
    assert resent.redirect_chain == [(where, 302)] and "This batch was already started." in text(resent)
    assert Batch.objects.count() == 1 and Generation.objects.count() == 2
    assert credits.spent(credits.this_month(team)) == 2


def test_two_starts_of_one_preview_at_the_same_moment_make_one_batch(owner_client, team, monkeypatch):
    seen = previewed(owner_client, from_values(product="mug", surface="oak"))
    start(owner_client, seen)
    checked_first = runs.refuse_a_second_start
    looks = []

    def not_committed_yet(team, nonce):
        """The first look sees nothing, as when the other start had not yet committed."""
        looks.append(nonce)
        if len(looks) > 1:
            checked_first(team, nonce)

    monkeypatch.setattr(runs, "refuse_a_second_start", not_committed_yet)
    response = start(owner_client, seen)

    assert response["Location"] == reverse("studio:batch", args=[Batch.objects.get().public_id])
    assert Generation.objects.count() == 1 and len(looks) == 2


# -- templates built to be costly -------------------------------------------------------


def braced_variables(count):
    return " ".join(f"{{{{v{number}}}}}" for number in range(count))


def test_a_template_over_the_length_limit_gets_no_value_lists_and_is_refused_beside_it(owner_client, team):
    long_template = braced_variables(2_000)  # 18,889 characters, 2,000 variables
    typed = preview(owner_client, {"refresh": "variables", "template": long_template}).content.decode()
    assert 'name="values-v0"' not in typed
    assert "The template is 18,889 characters long; a template takes at most 10,000." in html.unescape(typed)

    response = start(owner_client, {**from_values(), "template": long_template, "values-v0": "mug"})
    page = response.content.decode()
    assert response.status_code == 422
    assert 'name="values-v0"' not in page
    assert "The template is 18,889 characters long; a template takes at most 10,000." in beside(page, "template")
    nothing_stored(team)


def test_a_template_with_more_than_twenty_variables_is_refused_beside_it(owner_client, team):
    fields = {f"values-v{number}": "mug" for number in range(21)}
    response = start(owner_client, {**from_values(), "template": braced_variables(21), **fields})
    page = response.content.decode()
    assert response.status_code == 422
    assert "The template has 21 variables; a template takes at most 20." in beside(page, "template")
    assert 'name="values-v0"' not in page
    nothing_stored(team)

    words = text(preview(owner_client, {"refresh": "variables", "template": braced_variables(21)}))
    assert "The template has 21 variables; a template takes at most 20." in words
