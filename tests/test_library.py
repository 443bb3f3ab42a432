"""The team's prompt library: who sees, saves, changes and uses which prompt; search; the page,
the composer's save dialog and picker; bad input refused next to its field; another team's
prompt a 404."""

import html
import re

import pytest
from django.urls import reverse

from playground.library import prompts
from playground.library.models import SavedPrompt
from playground.teams.models import Membership

from .conftest import make_user, signed_in
from .test_bad_input import error_text

pytestmark = pytest.mark.django_db

Role = Membership.Role
HTMX = {"HX-Request": "true"}
LIBRARY = reverse("library:library")
SAVE = reverse("library:save")


def membership(user):
    return Membership.objects.select_related("team", "user").get(user=user)


def keep(user, title="Product shot", text="A {{product}} on a {{surface}}, soft studio light", tags=("product",), shared=True):
    return prompts.save(membership(user), title=title, text=text, tags=list(tags), shared=shared)


@pytest.fixture
def admin(team):
    return make_user("ada", team, Role.ADMIN)


@pytest.fixture
def viewer(team):
    return make_user("vic", team, Role.VIEWER)


# -- the rules ------------------------------------------------------------------------------


def test_a_member_sees_the_teams_shared_prompts_and_only_their_own_private_ones(owner, teammate, outsider):
    shared = keep(owner, "shared")
    mine = keep(teammate, "tom's own", shared=False)
    keep(owner, "olivia's own", shared=False)
    keep(outsider, "rival's shared")
    assert set(prompts.visible(membership(teammate))) == {shared, mine}
    assert {p.title for p in prompts.visible(membership(owner))} == {"shared", "olivia's own"}


def test_the_author_changes_their_own_and_owners_and_admins_the_shared_ones(owner, teammate, admin, viewer):
    shared, private = keep(teammate, "shared"), keep(teammate, "private", shared=False)
    assert prompts.may_change(membership(teammate), shared) and prompts.may_change(membership(teammate), private)
    assert prompts.may_change(membership(owner), shared) and prompts.may_change(membership(admin), shared)
    assert not prompts.may_change(membership(owner), private)
    owners = keep(owner, "the owner's")
    assert not prompts.may_change(membership(teammate), owners)
    assert not prompts.may_change(membership(viewer), owners)
    assert not prompts.may_save(membership(viewer)) and prompts.may_save(membership(teammate))


def test_search_finds_every_word_in_the_title_the_text_or_the_tags(owner):
    bottle = keep(owner, "Bottle on marble", "a glass bottle on white marble", ["product", "studio"])
    keep(owner, "Forest", "a misty pine forest at dawn", ["landscape"])
    found = prompts.visible(membership(owner))
    assert list(prompts.search(found, "MARBLE bottle")) == [bottle]
    assert list(prompts.search(found, "studio")) == [bottle]
    assert list(prompts.search(found, "", "product")) == [bottle]
    assert list(prompts.search(found, "", "prod")) == []  # a tag filter is one whole tag
    assert list(prompts.search(found, "forest", "product")) == []


def test_a_templates_variables_are_read_once_each_in_order():
    assert prompts.variables("A {{product}} on a {{ surface }}, {{product}} again, {{ not a var }}") == [
        "product", "surface"
    ]


def test_marking_used_sets_only_when_it_was_last_used(owner):
    saved = keep(owner)
    assert saved.last_used_at is None
    prompts.mark_used(saved)
    saved.refresh_from_db()
    assert saved.last_used_at is not None and saved.title == "Product shot"


# -- the page -------------------------------------------------------------------------------


def test_the_library_page_lists_who_saved_what_and_when_it_was_last_used(owner, teammate):
    used = keep(teammate, "Bottle on marble")
    prompts.mark_used(used)
    keep(owner, "Never touched", "a plain prompt", tags=[])
    page = signed_in(owner).get(LIBRARY)
    assert page.status_code == 200
    assert "Bottle on marble" in page.text and "Saved by tom" in page.text and "Last used" in page.text
    assert "Not used yet" in page.text
    assert "{{product}}" in page.text and "{{surface}}" in page.text  # the template's variables


def test_the_library_page_searches_and_filters_by_tag(owner):
    keep(owner, "Bottle on marble", "a glass bottle", ["product"])
    keep(owner, "Forest", "a misty forest", ["landscape"])
    client = signed_in(owner)
    found = client.get(LIBRARY, {"q": "bottle"}, headers=HTMX)
    assert "Bottle on marble" in found.text and "Forest" not in found.text
    tagged = client.get(LIBRARY, {"tag": "landscape"})
    assert "Forest</h2>" in tagged.text and "Bottle on marble</h2>" not in tagged.text
    nothing = client.get(LIBRARY, {"q": "submarine"})
    assert "Nothing in the library matches." in nothing.text


def test_the_library_is_linked_from_the_menu(owner):
    page = signed_in(owner).get(reverse("studio:generations"))
    assert f'href="{LIBRARY}"' in page.text


def test_another_teams_prompt_is_a_404_everywhere(owner, outsider):
    theirs = keep(outsider, "rival secret", text="the rival's secret recipe")
    client = signed_in(owner)
    opened = client.get(reverse("studio:playground"), {"saved": theirs.pk})
    assert "secret recipe" not in opened.text and "That saved prompt is no longer in the library." in opened.text
    assert "rival secret" not in client.get(LIBRARY).text
    assert "rival secret" not in client.get(reverse("library:picker")).text
    assert client.get(reverse("library:edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("library:edit", args=[theirs.pk]), {"title": "mine now"}).status_code == 404
    assert client.post(reverse("library:delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("library:use", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "rival secret" and theirs.last_used_at is None


def test_a_teammates_private_prompt_is_a_404_too(owner, teammate):
    private = keep(teammate, "tom's draft", shared=False)
    client = signed_in(owner)
    assert "tom's draft" not in client.get(LIBRARY).text
    assert client.post(reverse("library:delete", args=[private.pk])).status_code == 404
    assert SavedPrompt.objects.filter(pk=private.pk).exists()


# -- saving ---------------------------------------------------------------------------------


def test_saving_from_the_composer_keeps_the_prompt_for_the_team(teammate):
    response = signed_in(teammate).post(SAVE, {
        "title": "Bottle", "text": "A {{product}} on marble", "tags": " Product, studio light ,product", "shared": "team",
    }, headers=HTMX)
    assert response.status_code == 200
    assert "Saved “Bottle” in the team's library." in html.unescape(response.text)
    saved = SavedPrompt.objects.get()
    assert (saved.title, saved.text, saved.tag_list, saved.shared) == (
        "Bottle", "A {{product}} on marble", ["product", "studio light"], True
    )
    assert saved.saved_by == teammate and saved.team == membership(teammate).team


def test_saving_just_for_me_keeps_it_private(teammate, owner):
    signed_in(teammate).post(SAVE, {"title": "Mine", "text": "a cat", "tags": "", "shared": "me"})
    assert not SavedPrompt.objects.get().shared
    assert "Mine" not in signed_in(owner).get(LIBRARY).text


def test_the_save_page_without_htmx_goes_on_to_the_library(teammate):
    response = signed_in(teammate).post(SAVE, {"title": "Mine", "text": "a cat", "shared": "team"}, follow=True)
    assert response.redirect_chain[-1][0] == LIBRARY
    assert "Saved “Mine” in the library." in response.text


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"title": ""}, "title", "Give the prompt a title"),
    ({"title": "x" * 121}, "title", "at most 120 characters"),
    ({"text": "  "}, "text", "Write the prompt to save."),
    ({"text": "a" * 2001}, "text", "at most 2000 characters"),
    ({"tags": "ok, <script>"}, "tags", "only letters, digits, spaces and dashes"),
    ({"tags": "a" * 31}, "tags", "is too long: at most 30 characters"),
    ({"tags": ",".join(f"t{n}" for n in range(9))}, "tags", "At most 8 tags."),
    ({"shared": "everyone"}, "shared", "Choose who sees it."),
])
def test_bad_input_is_refused_next_to_its_field_and_saves_nothing(teammate, fields, field, words):
    data = {"title": "Fine", "text": "a fine prompt", "tags": "", "shared": "team", **fields}
    for headers in (HTMX, {}):
        response = signed_in(teammate).post(SAVE, data, headers=headers)
        assert response.status_code == 422
        assert words in error_text(response, field)
    assert not SavedPrompt.objects.exists()


def test_a_viewer_reads_shared_prompts_but_saves_none(owner, viewer):
    keep(owner, "shared one")
    client = signed_in(viewer)
    page = client.get(LIBRARY)
    assert "shared one" in page.text and "New prompt" not in page.text and "Edit" not in page.text
    assert client.post(SAVE, {"title": "x", "text": "y", "shared": "team"}).status_code == 403
    assert not SavedPrompt.objects.filter(title="x").exists()
    assert "Save prompt" not in client.get(reverse("studio:playground")).text


# -- editing and deleting -------------------------------------------------------------------


def test_the_author_edits_their_prompt(teammate):
    saved = keep(teammate)
    client = signed_in(teammate)
    assert 'value="Product shot"' in client.get(reverse("library:edit", args=[saved.pk])).text
    response = client.post(reverse("library:edit", args=[saved.pk]), {
        "title": "Bottle shot", "text": "a bottle", "tags": "bottles", "shared": "me",
    })
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.title, saved.text, saved.tag_list, saved.shared) == ("Bottle shot", "a bottle", ["bottles"], False)


def test_an_edit_with_bad_input_changes_nothing(teammate):
    saved = keep(teammate)
    response = signed_in(teammate).post(reverse("library:edit", args=[saved.pk]), {"title": "", "text": "new", "shared": "team"})
    assert response.status_code == 422 and "Give the prompt a title" in error_text(response, "title")
    saved.refresh_from_db()
    assert saved.text.startswith("A {{product}}")


def test_a_member_may_not_change_a_teammates_shared_prompt_but_an_admin_may(owner, teammate, admin):
    saved = keep(owner)
    assert signed_in(teammate).post(reverse("library:delete", args=[saved.pk])).status_code == 403
    assert "Edit" not in signed_in(teammate).get(LIBRARY).text.split('class="library-list"')[1]
    response = signed_in(admin).post(reverse("library:delete", args=[saved.pk]), follow=True)
    assert "Deleted “Product shot” from the library." in response.text
    assert not SavedPrompt.objects.exists()


# -- using ----------------------------------------------------------------------------------


def test_the_picker_finds_prompts_and_offers_them_to_insert(owner):
    keep(owner, "Bottle on marble", "a glass bottle", ["product"])
    keep(owner, "Forest", "a misty forest", [])
    client = signed_in(owner)
    picker = client.get(reverse("library:picker"), headers=HTMX)
    assert "Insert a prompt from the library" in picker.text and picker.text.count("data-insert-prompt=") == 2
    results = client.get(reverse("library:picker"), {"q": "bottle", "results": "1"}, headers=HTMX)
    assert 'data-insert-prompt="a glass bottle"' in results.text and "Forest" not in results.text


def test_inserting_from_the_picker_marks_the_prompt_used(teammate):
    saved = keep(teammate)
    response = signed_in(teammate).post(reverse("library:use", args=[saved.pk]), headers=HTMX)
    assert response.status_code == 204
    saved.refresh_from_db()
    assert saved.last_used_at is not None


def test_use_in_the_playground_opens_the_composer_with_the_prompt(teammate):
    saved = keep(teammate, text="a lighthouse at dawn, {{style}}")
    response = signed_in(teammate).post(reverse("library:use", args=[saved.pk]), follow=True)
    assert re.search(r'<textarea name="prompt"[^>]*>a lighthouse at dawn, \{\{style\}\}</textarea>', response.text)


def test_a_gone_saved_prompt_opens_an_empty_composer_saying_so(teammate):
    response = signed_in(teammate).get(reverse("studio:playground"), {"saved": "999999"})
    assert response.status_code == 200 and "That saved prompt is no longer in the library." in response.text


def test_an_owner_edits_a_teammates_shared_prompt_but_cannot_hide_it_from_the_team(owner, teammate):
    saved = keep(teammate, "Tom's shared")
    client = signed_in(owner)
    page = client.get(reverse("library:edit", args=[saved.pk]))
    assert 'name="shared"' not in page.text and "only the person who saved it can make it private" in page.text
    client.post(reverse("library:edit", args=[saved.pk]), {"title": "Tidied", "text": "a bottle", "shared": "me"})
    saved.refresh_from_db()
    assert (saved.title, saved.shared) == ("Tidied", True)


def test_a_prompt_of_someone_who_left_stays_in_the_library(owner, teammate):
    keep(teammate, "Tom's shared")
    teammate.delete()
    page = signed_in(owner).get(LIBRARY)
    assert "Tom's shared" in html.unescape(page.text) and "Saved by a former member" in page.text


def test_a_search_too_long_says_so_and_finds_nothing(owner):
    keep(owner, "Bottle on marble")
    response = signed_in(owner).get(LIBRARY, {"q": "bottle " * 40}, headers=HTMX)
    assert "at most 200 characters" in error_text(response, "q") and "Bottle on marble" not in response.text


def test_the_save_dialog_and_the_save_page(teammate):
    client = signed_in(teammate)
    dialog = client.get(SAVE, headers=HTMX)
    assert "<dialog" in dialog.text and "Save the prompt in the library" in dialog.text
    page = client.get(SAVE)
    assert "<h1>Save a prompt</h1>" in page.text and "<dialog" not in page.text.split("<main")[1].split("</main>")[0]


def test_the_playground_holds_no_library_dialog_until_one_is_asked_for(teammate):
    page = signed_in(teammate).get(reverse("studio:playground"))
    assert "Save prompt" in page.text and 'id="library-save"></div>' in page.text
    assert 'name="text"' not in page.text  # no second "Prompt" field hidden in the page
