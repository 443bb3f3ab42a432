"""The detail view of one generation: everything about it, its tags, and deleting it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from playground.generations.models import (
    GeneratedImage,
    Generation,
    GenerationReference,
    Mode,
    Reference,
    Status,
    Tag,
)
from playground.studio.views.details import duration_words
from playground.teams.models import AuditEvent, Membership

from .conftest import drive, make_generation, make_user
from .finished import stored_image, stored_reference
from .images import mask_bytes

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def detail_url(generation):
    return reverse("studio:generation-detail", args=[generation.public_id])


def tags_url(generation):
    return reverse("studio:generation-tags", args=[generation.public_id])


def delete_url(generation):
    return reverse("studio:generation-delete", args=[generation.public_id])


@pytest.fixture
def finished(team, owner):
    """A completed edit: two references, a mask, two images (one with the service's original)."""
    submitted = timezone.now() - timedelta(minutes=5)
    mask = stored_reference(team, owner, "mask.png", Reference.Kind.MASK, mask_bytes((64, 64), (8, 8, 32, 32)))
    generation = make_generation(
        team,
        owner,
        prompt="a red bicycle leaning on a blue wall",
        mode=Mode.EDIT,
        size="3:2",
        n=2,
        mask=mask,
        strict_mask=True,
        callback_url="https://hooks.example.com/evolink",
        status=Status.COMPLETED,
        task_id="task-unified-1757156493-abcd1234",
        estimated_seconds=45,
        submitted_at=submitted,
        upstream_completed_at=submitted + timedelta(seconds=50),
        finished_at=submitted + timedelta(seconds=72),
        credits_estimated=Decimal("4"),
        credits_reserved=Decimal("3.5"),
        credits_charged=Decimal("2.25"),
        timeline=[
            [Status.QUEUED, (submitted - timedelta(seconds=1)).isoformat()],
            [Status.PENDING, submitted.isoformat()],
            [Status.PROCESSING, (submitted + timedelta(seconds=3)).isoformat()],
            [Status.COMPLETED, (submitted + timedelta(seconds=72)).isoformat()],
        ],
    )
    for position, name in enumerate(["shop-front.png", "bicycle.jpg"]):
        reference = stored_reference(team, owner, name)
        GenerationReference.objects.create(generation=generation, reference=reference, position=position)
    stored_image(generation, 0, raw=True)
    stored_image(generation, 1)
    return generation


def page(client, generation, **params):
    response = client.get(detail_url(generation), params)
    assert response.status_code == 200
    return response.content.decode()


def text(html):
    """The page's words, without tags and with single spaces, as a person reads them."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- the detail view -----------------------------------------------------------------------------


def test_it_shows_the_prompt_and_every_parameter(client, teammate, finished):
    client.force_login(teammate)
    words = text(page(client, finished))
    assert "a red bicycle leaning on a blue wall" in words
    assert "Mode Mask edit" in words
    assert "Size 3:2 landscape" in words
    assert "Number of images 2" in words
    assert "Strict mask Yes" in words
    assert "Callback URL https://hooks.example.com/evolink" in words
    assert "Task id at the service task-unified-1757156493-abcd1234" in words


def test_it_says_who_made_it_and_when(client, teammate, finished):
    client.force_login(teammate)
    html = page(client, finished)
    assert f'<time datetime="{timezone.localtime(finished.created_at).isoformat()}' in html
    assert "Made by olivia Made on" in text(html)


def test_a_generation_by_someone_who_left_says_a_former_member(client, teammate, finished, owner):
    owner.delete()
    client.force_login(teammate)
    assert "Made by a former member Made on" in text(page(client, finished))


def test_each_status_change_is_listed_in_order_with_its_time(client, teammate, finished):
    client.force_login(teammate)
    html = page(client, finished)
    timeline = re.search(r'<ol class="timeline".*?</ol>', html, re.S).group(0)
    assert re.findall(r'class="timeline-status">([^<]+)<', timeline) == ["Queued", "Waiting", "Generating", "Completed"]
    assert timeline.count("<time datetime=") == 4
    assert "(after 4 s)" in timeline and "(after 1 min 13 s)" in timeline


def test_an_older_row_without_a_timeline_shows_its_main_times(client, teammate, finished):
    Generation.objects.filter(deleted_at__isnull=True, pk=finished.pk).update(timeline=[])
    client.force_login(teammate)
    html = page(client, finished)
    timeline = re.search(r'<ol class="timeline".*?</ol>', html, re.S).group(0)
    assert re.findall(r'class="timeline-status">([^<]+)<', timeline) == [
        "Created", "Sent to the service", "Done at the service", "Completed",
    ]


def test_estimated_and_actual_durations_are_in_words(client, teammate, finished):
    client.force_login(teammate)
    words = text(page(client, finished))
    assert "Estimated by the service 45 s" in words
    assert "Took at the service 50 s" in words
    assert "Took in all 1 min 12 s" in words


@pytest.mark.parametrize(
    "seconds, words",
    [(0.3, "under 1 s"), (45, "45 s"), (60, "1 min"), (72.4, "1 min 12 s"), (3725, "1 h 2 min"), (None, "")],
)
def test_durations_read_as_people_say_them(seconds, words):
    assert duration_words(seconds) == words


def test_credits_reserved_and_charged_are_shown(client, teammate, finished):
    client.force_login(teammate)
    words = text(page(client, finished))
    assert "Reserved against the team's budget 4" in words
    assert "Reserved by the service 3.5" in words
    assert "Charged 2.25" in words


def test_a_running_generation_is_not_charged_yet(client, teammate, team, owner):
    running = make_generation(team, owner, status=Status.PROCESSING, credits_estimated=Decimal("2"))
    client.force_login(teammate)
    words = text(page(client, running))
    assert "Charged not yet" in words
    assert "Task id at the service not sent yet" in words


def test_the_error_is_said_in_words(client, teammate, team, owner):
    failed = make_generation(
        team, owner, status=Status.FAILED, error_code="content_policy_violation",
        error_message="The request was refused by the content policy. Try rewording the prompt.",
    )
    client.force_login(teammate)
    assert "The request was refused by the content policy. Try rewording the prompt." in page(client, failed)


def test_each_image_is_shown_full_size_with_its_dimensions_bytes_and_links(client, teammate, finished):
    client.force_login(teammate)
    html = page(client, finished)
    first, second = finished.images.all()
    full = reverse("studio:image", args=[first.public_id, "full"])
    assert re.search(rf'<a href="{full}" data-lightbox>\s*<img src="{full}" width="96" height="64"', html)
    assert 'alt="Image 1 of 2: a red bicycle leaning on a blue wall"' in html
    assert f"96 × 64 · {filesizeformat(first.bytes)}" in html
    assert f'href="{full}?download" download="{first.download_stem}.png"' in html
    assert ">Download image 1</span>" in html
    assert reverse("studio:image", args=[first.public_id, "raw"]) in html
    assert reverse("studio:image", args=[second.public_id, "raw"]) not in html  # no original kept
    assert f'?reference=image:{first.public_id}"' in html
    assert ">Use image 1 as a reference</span>" in html
    assert 'data-lightbox-group' in html


def test_the_images_are_the_full_files_lazy_loaded_never_thumbnails(client, teammate, finished):
    client.force_login(teammate)
    html = page(client, finished)
    stage = html.split('id="detail-stage"')[1].split('<div class="detail-side">')[0]
    assert stage.count('loading="lazy"') == 2
    assert "/thumb" not in stage
    assert "hx-trigger" not in stage  # finished: nothing to follow


def test_a_running_generation_follows_itself_until_it_finishes(client, teammate, team, owner):
    running = make_generation(team, owner, status=Status.PROCESSING, progress=40)
    client.force_login(teammate)
    html = page(client, running)
    stage = html.split('id="detail-stage"')[1].split(">")[0]
    assert f'hx-get="{detail_url(running)}"' in stage and 'hx-trigger="every 2s" data-poll' in stage  # not from a hidden tab
    assert '<progress class="tile-progress" max="100" value="40"' in html


def test_the_download_link_gives_a_useful_file_name(client, teammate, finished):
    client.force_login(teammate)
    image = finished.images.first()
    response = client.get(reverse("studio:image", args=[image.public_id, "full"]))
    assert "a-red-bicycle-leaning-on-a-blue-wall-1.png" in response["Content-Disposition"]


def test_the_references_and_mask_are_shown_with_their_names(client, teammate, finished):
    client.force_login(teammate)
    html = page(client, finished)
    for reference in finished.ordered_references():
        assert reverse("studio:reference", args=[reference.public_id, "thumb"]) in html
        assert reverse("studio:reference", args=[reference.public_id, "full"]) in html
    assert "shop-front.png" in html and "bicycle.jpg" in html
    assert reverse("studio:reference", args=[finished.mask.public_id, "thumb"]) in html
    assert 'alt="The mask"' in html


def test_rerun_zip_and_favourite_are_offered(client, teammate, finished):
    finished.favourited_by.add(teammate)
    client.force_login(teammate)
    html = page(client, finished)
    assert re.search(rf'{reverse("studio:playground")}\?rerun={finished.public_id}">.*?<span>Re-run</span></a>', html, re.S)
    assert reverse("studio:generation-zip", args=[finished.public_id]) in html
    assert 'aria-pressed="true"' in html  # this person's own star


def test_the_star_is_each_persons_own(client, owner, finished):
    finished.favourited_by.add(make_user("ursula", finished.team))
    client.force_login(owner)
    assert 'aria-pressed="false"' in page(client, finished)


def test_a_viewer_sees_everything_but_cannot_act(client, team, finished):
    client.force_login(make_user("vera", team, Membership.Role.VIEWER))
    html = page(client, finished)
    assert "a red bicycle leaning on a blue wall" in html
    assert "?rerun=" not in html
    assert "?reference=image:" not in html
    assert tags_url(finished) not in html
    assert "Delete…" not in html


def test_a_member_of_another_team_gets_a_404(client, outsider, finished):
    client.force_login(outsider)
    assert client.get(detail_url(finished)).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, finished):
    response = client.get(detail_url(finished))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# -- tags ----------------------------------------------------------------------------------------


def test_tags_are_normalised_saved_and_shown_as_links_to_the_history(client, teammate, finished):
    client.force_login(teammate)
    response = client.post(tags_url(finished), {"tags": " Poster ,  Autumn   Campaign,, poster, "})
    assert response.status_code == 302
    assert response["Location"] == detail_url(finished)
    assert sorted(finished.tags.values_list("name", flat=True)) == ["autumn campaign", "poster"]
    html = page(client, finished)
    assert f'href="{reverse("studio:generations")}?tag=autumn%20campaign">autumn campaign</a>' in html
    assert 'value="autumn campaign, poster"' in html  # the field shows the current tags


def test_htmx_gets_the_tags_section_back(client, teammate, finished):
    client.force_login(teammate)
    response = client.post(tags_url(finished), {"tags": "poster"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="tags"')
    assert "?tag=poster" in html
    assert "Saved." in html


def test_tags_are_reused_within_the_team_and_never_across_teams(client, teammate, finished, team, other_team):
    theirs = Tag.objects.create(team=other_team, name="poster")
    ours = Tag.objects.create(team=team, name="poster")
    client.force_login(teammate)
    client.post(tags_url(finished), {"tags": "poster"})
    assert list(finished.tags.all()) == [ours]
    assert not theirs.generations.exists()


def test_an_empty_field_clears_the_tags_and_keeps_the_tag_names(client, teammate, finished, team):
    finished.tags.add(Tag.objects.create(team=team, name="poster"))
    client.force_login(teammate)
    client.post(tags_url(finished), {"tags": " , "})
    assert not finished.tags.exists()
    assert Tag.objects.filter(team=team, name="poster").exists()


@pytest.mark.parametrize(
    "given, error",
    [
        ("poster, " + "x" * 41, "is longer than 40 characters"),
        (", ".join(f"tag {number}" for number in range(13)), "At most 12 tags, and this has 13."),
    ],
)
def test_bad_tags_are_refused_next_to_the_field_and_nothing_changes(client, teammate, finished, team, given, error):
    finished.tags.add(Tag.objects.create(team=team, name="kept"))
    client.force_login(teammate)

    response = client.post(tags_url(finished), {"tags": given}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="tags-error" role="alert">[^<]*{re.escape(error)}', html)
    assert 'aria-invalid="true"' in html
    assert list(finished.tags.values_list("name", flat=True)) == ["kept"]
    assert list(Tag.objects.filter(team=team).values_list("name", flat=True)) == ["kept"]


def test_bad_tags_in_a_plain_post_show_the_page_with_the_error(client, teammate, finished):
    client.force_login(teammate)
    response = client.post(tags_url(finished), {"tags": "y" * 41})
    assert response.status_code == 400
    assert "is longer than 40 characters" in response.content.decode()


def test_exactly_twelve_tags_of_forty_characters_are_fine(client, teammate, finished):
    client.force_login(teammate)
    given = [f"{number:02d}" + "z" * 38 for number in range(12)]
    client.post(tags_url(finished), {"tags": ",".join(given)})
    assert sorted(finished.tags.values_list("name", flat=True)) == given


def test_a_tag_given_twice_counts_once(client, teammate, finished):
    client.force_login(teammate)
    given = [f"tag {number}" for number in range(12)] + ["TAG  0"]
    response = client.post(tags_url(finished), {"tags": ", ".join(given)})
    assert response.status_code == 302
    assert finished.tags.count() == 12


def test_a_viewer_cannot_tag(client, team, finished):
    client.force_login(make_user("vera", team, Membership.Role.VIEWER))
    response = client.post(tags_url(finished), {"tags": "poster"}, headers=HTMX)
    assert response.status_code == 403
    assert not Tag.objects.exists()


def test_another_team_cannot_tag(client, outsider, finished):
    client.force_login(outsider)
    assert client.post(tags_url(finished), {"tags": "poster"}).status_code == 404
    assert not Tag.objects.exists()


# -- delete --------------------------------------------------------------------------------------


def stored_files(generation):
    return [
        name
        for image in generation.images.all()
        for name in (image.file.name, image.thumbnail.name, image.raw_file.name)
        if name
    ]


def test_deleting_asks_first_with_the_number_of_images(client, owner, finished):
    client.force_login(owner)
    html = page(client, finished)
    assert f'href="{detail_url(finished)}?confirm-delete#delete">Delete…' in html
    confirm = page(client, finished, **{"confirm-delete": ""})
    assert "Delete this generation and its 2 images?" in confirm
    assert f'action="{delete_url(finished)}"' in confirm
    assert "Keep it" in confirm


def test_the_maker_deletes_it_its_files_go_and_the_audit_log_says_so(
    client, owner, finished, django_capture_on_commit_callbacks
):
    files = stored_files(finished)
    references = list(Reference.objects.values_list("pk", flat=True))
    assert len(files) == 5 and all(default_storage.exists(name) for name in files)
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete_url(finished), follow=True)

    assert response.redirect_chain == [(reverse("studio:generations"), 302)]
    assert "Deleted “a red bicycle leaning on a blue wall” and its 2 images." in response.content.decode()
    assert not Generation.objects.for_team(finished.team).filter(pk=finished.pk).exists()
    gone = Generation.objects.get(pk=finished.pk)  # what it cost stays, for budgets and usage
    assert gone.deleted_at and gone.prompt == "" and gone.credits_charged == finished.credits_charged
    assert client.get(detail_url(finished)).status_code == 404
    assert not GeneratedImage.objects.exists()
    assert not any(default_storage.exists(name) for name in files)
    assert sorted(Reference.objects.values_list("pk", flat=True)) == sorted(references)  # shared, so kept
    event = AuditEvent.objects.get(action=AuditEvent.Action.GENERATION_DELETED)
    assert (event.team, event.actor, event.target) == (finished.team, owner, finished.prompt)
    assert event.details == {"images": 2, "public_id": str(finished.public_id)}


def test_the_audit_target_is_the_prompt_cut_to_80_characters(client, owner, team):
    generation = make_generation(team, owner, prompt="a very long prompt " * 10, status=Status.FAILED)
    client.force_login(owner)
    client.post(delete_url(generation))
    target = AuditEvent.objects.get(action=AuditEvent.Action.GENERATION_DELETED).target
    assert len(target) == 80 and target.startswith("a very long prompt")


def test_htmx_is_sent_to_the_history_page(client, owner, finished):
    client.force_login(owner)
    response = client.post(delete_url(finished), headers=HTMX)
    assert response["HX-Redirect"] == reverse("studio:generations")
    assert not Generation.objects.filter(deleted_at__isnull=True, pk=finished.pk).exists()


def test_an_admin_may_delete_anyones(client, team, finished):
    client.force_login(make_user("ada", team, Membership.Role.ADMIN))
    assert client.post(delete_url(finished)).status_code == 302
    assert not Generation.objects.filter(deleted_at__isnull=True, pk=finished.pk).exists()


def test_a_member_who_did_not_make_it_gets_a_403_and_nothing_changes(
    client, teammate, finished, django_capture_on_commit_callbacks
):
    files = stored_files(finished)
    client.force_login(teammate)
    assert "Delete…" not in page(client, finished)
    assert "Delete this generation" not in page(client, finished, **{"confirm-delete": ""})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete_url(finished), headers=HTMX)

    assert response.status_code == 403
    assert finished.images.count() == 2
    assert all(default_storage.exists(name) for name in files)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.GENERATION_DELETED).exists()


def test_a_viewer_cannot_delete_even_what_they_made_before(client, team, finished):
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    mine = make_generation(team, viewer, status=Status.COMPLETED)
    client.force_login(viewer)
    assert client.post(delete_url(mine)).status_code == 403
    assert Generation.objects.filter(deleted_at__isnull=True, pk=mine.pk).exists()


def test_another_team_gets_a_404_and_nothing_changes(client, outsider, finished):
    client.force_login(outsider)
    assert client.post(delete_url(finished)).status_code == 404
    assert Generation.objects.filter(deleted_at__isnull=True, pk=finished.pk).exists()


@pytest.mark.parametrize("status", [Status.QUEUED, Status.PROCESSING, Status.INGESTING])
def test_a_running_generation_cannot_be_deleted(client, owner, team, status):
    running = make_generation(team, owner, status=status)
    client.force_login(owner)
    assert "It can be deleted once it has finished." in page(client, running)

    response = client.post(delete_url(running), headers=HTMX)

    assert response.status_code == 409
    assert "still running, so it cannot be deleted yet" in response.content.decode()
    assert Generation.objects.filter(deleted_at__isnull=True, pk=running.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.GENERATION_DELETED).exists()


def test_a_plain_post_for_a_running_one_shows_the_page_with_the_reason(client, owner, team):
    running = make_generation(team, owner, status=Status.PENDING)
    client.force_login(owner)
    response = client.post(delete_url(running))
    assert response.status_code == 409
    assert "<html" in response.content.decode()
    assert "still running, so it cannot be deleted yet" in response.content.decode()


# -- end to end ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # a real generation: sent when its transaction commits
@pytest.mark.usefixtures("sandbox")
def test_a_real_generation_is_shown_in_full_and_deleted_with_its_files(owner_client):
    owner_client.post(reverse("studio:generate"), {"prompt": "a lighthouse at dawn", "size": "2:3", "n": 2})
    generation = drive(Generation.objects.get())
    files = stored_files(generation)
    assert len(files) >= 4

    html = page(owner_client, generation)
    assert html.count('width="1024" height="1536"') == 2
    assert html.count("1024 × 1536 · ") == 2
    assert re.findall(r'class="timeline-status">([^<]+)<', html)[-1] == "Completed"
    assert generation.task_id in html

    response = owner_client.post(delete_url(generation))

    assert response.status_code == 302
    assert not Generation.objects.filter(deleted_at__isnull=True).exists()
    assert not any(default_storage.exists(name) for name in files)



@pytest.mark.django_db(transaction=True)  # a real generation: sent when its transaction commits
@pytest.mark.usefixtures("sandbox")
def test_a_deleted_generation_still_counts_its_images_in_the_usage(owner_client, team):
    from playground.generations.usage import Month, month_usage

    owner_client.post(reverse("studio:generate"), {"prompt": "two posters", "size": "1:1", "n": "2"})
    generation = drive(Generation.objects.get())
    owner_client.post(delete_url(generation))

    assert month_usage(team, Month.current()).total.images == 2


def test_a_signed_out_poll_of_a_running_generation_is_refused_not_sent_a_login_page(client, team, owner):
    running = make_generation(team, owner, status=Status.PROCESSING)
    assert client.get(detail_url(running), headers={"HX-Request": "true"}).status_code == 403
    assert client.get(detail_url(running))["Location"].startswith(reverse("login"))
