"""The History page: every generation of the team, found by words, people and filters,
a keyset page at a time, with the view kept in the URL."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.generations.models import Generation, Mode, Status
from playground.studio import browse

from .conftest import make_generation, make_user

pytestmark = pytest.mark.django_db

URL = "/generations/"
HTMX = {"HX-Request": "true"}


def prompts(response):
    return re.findall(r'<span class="gallery-prompt">(.*?)</span>', response.content.decode())


def seeded(team, owner, teammate):
    now = timezone.now()
    rows = [
        ("a red bicycle by the sea", owner, Status.COMPLETED, Mode.TEXT, "1:1", 5),
        ("a blue bicycle in the snow", teammate, Status.FAILED, Mode.IMAGE, "2:3", 4),
        ("a lighthouse at dawn", owner, Status.PROCESSING, Mode.EDIT, "3:2", 3),
        ("a red lighthouse poster", teammate, Status.COMPLETED, Mode.TEXT, "1:1", 2),
    ]
    for prompt, user, status, mode, size, days_ago in rows:
        make_generation(team, user, prompt=prompt, status=status, mode=mode, size=size,
                        created_at=now - timedelta(days=days_ago))


@pytest.fixture
def history(team, owner, teammate, other_team, outsider):
    seeded(team, owner, teammate)
    make_generation(other_team, outsider, prompt="a red bicycle of the rival team")


def test_it_lists_every_generation_of_the_team_newest_first_and_nothing_of_another(owner_client, history):
    assert prompts(owner_client.get(URL)) == [
        "a red lighthouse poster", "a lighthouse at dawn", "a blue bicycle in the snow", "a red bicycle by the sea",
    ]


def test_search_finds_prompts_holding_every_word_in_any_case(owner_client, history):
    assert prompts(owner_client.get(URL, {"q": "RED bicycle"})) == ["a red bicycle by the sea"]
    assert prompts(owner_client.get(URL, {"q": "lighthouse"})) == ["a red lighthouse poster", "a lighthouse at dawn"]


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"status": "running"}, ["a lighthouse at dawn"]),
        ({"status": "failed"}, ["a blue bicycle in the snow"]),
        ({"mode": "edit"}, ["a lighthouse at dawn"]),
        ({"size": "2:3"}, ["a blue bicycle in the snow"]),
        ({"status": "completed", "size": "1:1"}, ["a red lighthouse poster", "a red bicycle by the sea"]),
    ],
)
def test_filters_narrow_the_list(owner_client, history, filters, expected):
    assert prompts(owner_client.get(URL, filters)) == expected


def test_a_person_filter_shows_only_their_generations(owner_client, history, teammate):
    assert prompts(owner_client.get(URL, {"person": teammate.pk})) == [
        "a red lighthouse poster", "a blue bicycle in the snow",
    ]


def test_a_date_range_includes_both_days(owner_client, history):
    today = timezone.localdate()
    response = owner_client.get(URL, {"start": today - timedelta(days=4), "end": today - timedelta(days=3)})
    assert prompts(response) == ["a lighthouse at dawn", "a blue bicycle in the snow"]


def test_an_end_before_the_start_is_said_next_to_the_field(owner_client, history):
    today = timezone.localdate()
    response = owner_client.get(URL, {"start": today, "end": today - timedelta(days=1)})
    assert 'id="end-error">The end date is before the start date.' in response.content.decode()


def test_favourites_are_each_persons_own(client, history, owner, teammate):
    starred = Generation.objects.get(prompt="a lighthouse at dawn")
    client.force_login(owner)
    response = client.post(reverse("studio:favourite", args=[starred.public_id]), {"starred": "1"}, headers=HTMX)
    assert 'aria-pressed="true"' in response.content.decode()
    client.post(reverse("studio:favourite", args=[starred.public_id]), {"starred": "1"}, headers=HTMX)  # a retry
    assert prompts(client.get(URL, {"favourites": "on"})) == ["a lighthouse at dawn"]

    client.force_login(teammate)
    assert prompts(client.get(URL, {"favourites": "on"})) == []

    client.force_login(owner)  # the next press takes the star away
    client.post(reverse("studio:favourite", args=[starred.public_id]), {"starred": "0"}, headers=HTMX)
    assert prompts(client.get(URL, {"favourites": "on"})) == []


def test_pages_follow_each_other_without_gaps_or_repeats(owner_client, team, owner):
    now = timezone.now()
    for number in range(browse.PAGE_SIZE * 2 + 5):
        # Pairs share a timestamp, so the cursor must break ties by id.
        make_generation(team, owner, prompt=f"poster {number}", created_at=now - timedelta(minutes=number // 2))
    seen, url = [], URL + "?status=queued"
    while url:
        page = owner_client.get(url).content.decode()
        seen += prompts(owner_client.get(url))
        older = re.search(r'<a rel="next" href="(\?[^"]*after=[^"]*)"', page)
        url = URL + older.group(1).replace("&amp;", "&") if older else None
    assert len(seen) == browse.PAGE_SIZE * 2 + 5
    assert len(set(seen)) == len(seen)
    assert seen[0] == "poster 1" or seen[0] == "poster 0"


def test_a_tampered_cursor_starts_from_the_newest(owner_client, history):
    assert prompts(owner_client.get(URL, {"after": "not-a-cursor"}))[0] == "a red lighthouse poster"


def test_htmx_gets_the_results_and_a_history_restore_the_whole_page(owner_client, history):
    fragment = owner_client.get(URL, {"q": "red"}, headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="browse"')
    restored = owner_client.get(URL, {"q": "red"}, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.content.decode()


def test_a_page_costs_the_same_few_queries_however_long_the_history(owner_client, team, owner, django_assert_max_num_queries):
    for number in range(200):
        make_generation(team, owner, prompt=f"poster {number}")
    with django_assert_max_num_queries(12):
        response = owner_client.get(URL, {"q": "poster", "status": "queued"})
    assert response.status_code == 200
    assert len(prompts(response)) == browse.PAGE_SIZE  # a full page was read and shown


def test_another_team_cannot_star_this_teams_generation(client, history, outsider):
    starred = Generation.objects.get(prompt="a lighthouse at dawn")
    client.force_login(outsider)
    assert client.post(reverse("studio:favourite", args=[starred.public_id]), {"starred": "1"}).status_code == 404
    assert starred.favourited_by.count() == 0


def test_the_layout_choice_is_kept_in_the_links(owner_client, history):
    page = owner_client.get(URL, {"layout": "list", "q": "red"}).content.decode()
    assert 'class="gallery layout-list"' in page
    assert "layout=list" in page


def test_only_the_teams_people_are_offered_in_the_person_filter(owner_client, history):
    make_user("zed", None)  # in no team
    page = owner_client.get(URL).content.decode()
    assert ">olivia<" in page and ">tom<" in page
    assert ">zed<" not in page
    assert ">oscar<" not in page  # in another team


def test_a_tag_filter_shows_the_generations_filed_under_it(owner_client, history, team, other_team):
    from playground.generations.models import Tag

    poster = Tag.objects.create(team=team, name="poster")
    Generation.objects.get(prompt="a red lighthouse poster").tags.add(poster)
    Tag.objects.create(team=other_team, name="poster").generations.add(
        Generation.objects.get(prompt="a red bicycle of the rival team")
    )
    assert prompts(owner_client.get(URL, {"tag": "poster"})) == ["a red lighthouse poster"]


def test_valid_filters_still_apply_beside_an_invalid_one(owner_client, history):
    response = owner_client.get(URL, {"q": "bicycle", "tag": "no-such-tag"})
    assert prompts(response) == ["a blue bicycle in the snow", "a red bicycle by the sea"]
    assert 'id="tag-error"' in response.content.decode()


def test_a_deleted_generation_is_gone_from_the_history_page_and_the_panel(owner_client, history, owner):
    gone = Generation.objects.get(prompt="a red bicycle by the sea")
    gone.status = Status.COMPLETED
    gone.save()
    owner_client.post(reverse("studio:generation-delete", args=[gone.public_id]))
    assert "a red bicycle by the sea" not in prompts(owner_client.get(URL))
    assert "a red bicycle by the sea" not in owner_client.get(reverse("studio:history"), headers=HTMX).content.decode()
    page = owner_client.get(reverse("studio:playground"), {"rerun": gone.public_id}).content.decode()
    assert "That generation or image is no longer there." in page


def test_a_malformed_stored_mask_is_refused_without_an_error_page(owner_client, history):
    response = owner_client.post(
        reverse("studio:generate"), {"prompt": "a cat", "size": "1:1", "n": "1", "stored_mask": "nope"}, headers=HTMX
    )
    assert response.status_code == 200
    assert Generation.objects.filter(prompt="a cat").count() == 0


def test_search_ignores_case_in_every_script(owner_client, team, owner):
    make_generation(team, owner, prompt="Été à Paris, ПОСТЕР")
    assert prompts(owner_client.get(URL, {"q": "été постер"})) == ["Été à Paris, ПОСТЕР"]


def test_a_failed_item_is_a_tile_with_its_reason_not_a_blank_square(owner_client, team, owner):
    make_generation(team, owner, prompt="a neon koi pond", status=Status.FAILED,
                    error_message="The request was refused by the content policy. Try rewording the prompt.")
    page = owner_client.get(URL).content.decode()
    tile = re.search(r'<span class="gallery-tile tile-failed">(.*?)</span>\s*<span class="gallery-prompt">', page, re.S).group(1)
    assert '<span class="tile-title">Failed</span>' in tile
    assert "The request was refused by the content policy. Try rewording the prompt." in tile
    assert "gallery-placeholder" not in page


def test_an_expired_item_says_why_it_has_no_image(owner_client, team, owner):
    make_generation(team, owner, prompt="an old map", status=Status.EXPIRED)
    page = owner_client.get(URL).content.decode()
    assert '<span class="tile-title">Expired</span>' in page
    assert "The service's links expired before the images were stored." in page


def test_a_running_item_is_a_skeleton_with_its_progress(owner_client, team, owner):
    make_generation(team, owner, prompt="a paper boat", status=Status.PROCESSING, progress=40)
    page = owner_client.get(URL).content.decode()
    assert '<span class="gallery-tile tile-running" aria-hidden="true">' in page
    assert '<progress class="tile-progress" max="100" value="40"></progress>' in page
    assert "Generating · 40%" in page


def test_the_filters_control_counts_the_active_filters_but_not_the_search(owner_client, history, teammate):
    page = owner_client.get(URL, {"q": "red", "status": "completed", "person": teammate.pk}).content.decode()
    assert re.search(r'<span id="filter-count" class="filter-count">.*?>2<.*?\(2 active\)', page, re.S)
    page = owner_client.get(URL, {"q": "red"}).content.decode()
    assert '<span id="filter-count" class="filter-count is-empty">' in page
    assert "<details class=\"filters-disclosure\">" in page  # folded: results first
    page = owner_client.get(URL, {"start": "2030-01-02", "end": "2030-01-01"}).content.decode()
    assert '<details class="filters-disclosure" open>' in page  # an error is never hidden


def tile_of(page, generation):
    """The History page's <li> for `generation`, its opening tag first."""
    start = page.index(f'id="tile-{generation.public_id}"')
    return page[page.rindex("<li", 0, start):page.index("</li>", start)]


def test_a_running_tile_asks_for_itself_until_it_is_finished(owner_client, team, owner):
    running = make_generation(team, owner, prompt="a paper boat", status=Status.PROCESSING, progress=40)
    done = make_generation(team, owner, prompt="a kite", status=Status.COMPLETED)
    page = owner_client.get(URL).content.decode()
    tile = reverse("studio:gallery-tile", args=[running.public_id])
    assert f'hx-get="{tile}" hx-trigger="every 2s" hx-swap="outerHTML" data-poll' in tile_of(page, running)
    assert "hx-trigger" not in tile_of(page, done)

    Generation.objects.filter(pk=running.pk).update(progress=70)
    still = owner_client.get(tile, headers=HTMX).content.decode()
    assert still.lstrip().startswith("<li") and "Generating · 70%" in still
    assert 'hx-trigger="every 2s"' in still

    Generation.objects.filter(pk=running.pk).update(status=Status.COMPLETED, progress=100)
    finished = owner_client.get(tile, headers=HTMX).content.decode()
    assert "Completed" in finished and "tile-running" not in finished
    assert "hx-trigger" not in tile_of(finished, running)


def test_a_refreshed_tile_keeps_the_list_layout_and_a_star_that_returns_to_the_page(owner_client, team, owner):
    running = make_generation(team, owner, prompt="a paper boat", status=Status.PROCESSING)
    page = owner_client.get(URL, {"layout": "list"}).content.decode()
    tile = reverse("studio:gallery-tile", args=[running.public_id]) + "?layout=list"
    assert f'hx-get="{tile}"' in page
    refreshed = owner_client.get(tile, headers=HTMX).content.decode()
    assert f'hx-get="{tile}"' in refreshed
    assert '<input type="hidden" name="next" value="/generations/">' in refreshed


def test_a_page_with_nothing_running_does_not_poll(owner_client, history):
    Generation.objects.filter(status=Status.PROCESSING).update(status=Status.COMPLETED)
    page = owner_client.get(URL).content.decode()
    assert "every 2s" not in page and "data-poll" not in page
