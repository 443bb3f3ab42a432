"""The actions on a result image, seen from the server: download, vary, the lightbox's panel,
edit a region, who may do what, and the lineage between generations made from one another."""

import hashlib
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from playground.generations import lineage, references
from playground.generations.models import Generation, GenerationReference, Mode
from playground.teams.models import Membership as TeamMembership

from .conftest import make_generation, make_user
from .finished import finished_generation
from .images import image_bytes

HTMX = {"HX-Request": "true"}
PROMPT = "a red bicycle leaning on a blue wall"


@pytest.fixture
def made(team, owner):
    return two_results(team, owner)


def two_results(team, user, prompt=PROMPT):
    """A finished generation of two results, each with bytes of its own (as the service's always differ)."""
    generation = finished_generation(team, user, prompt=prompt, n=2)
    second = generation.images.get(index=1)
    data = image_bytes((second.width, second.height), colour=(20, 160, 90))
    second.file = default_storage.save(f"{second.file.name}-2.png", ContentFile(data))
    second.sha256, second.bytes = hashlib.sha256(data).hexdigest(), len(data)
    second.save()
    return generation


def detail_url(generation):
    return reverse("studio:generation-detail", args=[generation.public_id])


def vary_url(image):
    return reverse("studio:image-vary", args=[image.public_id])


def viewer_url(image):
    return reverse("studio:image-viewer", args=[image.public_id])


def made_from_image(team, user, image, prompt="the same bicycle at night", mode=Mode.IMAGE):
    """A generation whose reference is `image`, taken as the pages take it (references.from_result)."""
    derived = make_generation(team, user, prompt=prompt, mode=mode)
    GenerationReference.objects.create(generation=derived, reference=references.from_result(team, user, image), position=0)
    return derived


def stored_bytes(image):
    with default_storage.open(image.file.name) as stored:
        return stored.read()


# -- download ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_download_gives_the_image_under_its_useful_name_with_its_own_bytes(client, teammate, made):
    client.force_login(teammate)
    image = made.images.get(index=1)

    response = client.get(reverse("studio:image", args=[image.public_id, "full"]), {"download": ""})

    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert re.search(r'filename="\d{4}-\d\d-\d\d-a-red-bicycle-leaning-on-a-blue-wall-2\.png"', disposition)
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == stored_bytes(image)


@pytest.mark.django_db
def test_without_download_the_image_is_shown_in_the_tab(client, teammate, made):
    client.force_login(teammate)
    response = client.get(reverse("studio:image", args=[made.images.first().public_id, "full"]))
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.django_db
def test_the_download_action_names_the_file_it_gives(client, teammate, made):
    client.force_login(teammate)
    html = client.get(detail_url(made)).text
    image = made.images.first()
    assert f'download="{image.download_stem}.png"' in html
    assert ">Download image 1</span>" in html


# -- vary --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
def test_vary_queues_the_same_prompt_with_the_image_as_its_only_reference(client, teammate, made):
    client.force_login(teammate)
    image = made.images.get(index=1)

    response = client.post(vary_url(image), {"next": detail_url(made)})

    varied = Generation.objects.exclude(pk=made.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('studio:playground')}?g={varied.public_id}"
    assert (varied.prompt, varied.size, varied.n, varied.mode) == (PROMPT, made.size, made.n, Mode.IMAGE)
    assert varied.created_by == teammate
    assert [reference.sha256 for reference in varied.ordered_references()] == [image.sha256]
    assert varied.credits_estimated > 0  # reserved against the budgets, as Generate does


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
def test_vary_over_the_budget_is_refused_with_a_clear_message_and_nothing_is_stored_or_sent(
    client, teammate, team, made, sandbox
):
    from .test_bad_input import snapshot

    team.monthly_budget = Decimal("1")
    team.save(update_fields=["monthly_budget"])
    client.force_login(teammate)
    before = snapshot(sandbox)

    response = client.post(vary_url(made.images.first()), {"next": detail_url(made)}, follow=True)

    assert response.redirect_chain[-1][0] == detail_url(made)
    assert "This needs 3 credits, but the team&#x27;s monthly budget has 1 of 1 credits left." in response.text
    assert Generation.objects.count() == 1
    assert snapshot(sandbox) == before  # no reference copied, no task, nothing reserved upstream


@pytest.mark.django_db
def test_a_viewer_can_look_download_star_and_copy_but_not_vary_use_or_edit(client, team, made):
    viewer = make_user("vera", team, TeamMembership.Role.VIEWER)
    client.force_login(viewer)
    image = made.images.first()

    html = client.get(detail_url(made)).text

    assert ">Download image 1</span>" in html
    assert ">Open image 1 large</span>" in html
    assert ">Favourite</span>" in html
    assert ">Copy the prompt</span>" in html
    assert vary_url(image) not in html
    assert "?reference=image:" not in html
    assert client.post(vary_url(image)).status_code == 403
    assert Generation.objects.count() == 1


@pytest.mark.django_db
def test_another_teams_image_answers_404_to_every_action(client, outsider, made):
    client.force_login(outsider)
    image = made.images.first()
    assert client.get(reverse("studio:image", args=[image.public_id, "full"]), {"download": ""}).status_code == 404
    assert client.post(vary_url(image)).status_code == 404
    assert client.get(viewer_url(image), headers=HTMX).status_code == 404
    assert client.get(reverse("studio:playground"), {"reference": f"image:{image.public_id}", "paint": "1"}).status_code == 200
    assert Generation.objects.count() == 1


# -- edit a region -----------------------------------------------------------------------


@pytest.mark.django_db
def test_edit_a_region_from_another_page_opens_the_playground_with_the_painter_on_the_image(client, teammate, made):
    client.force_login(teammate)
    image = made.images.first()

    html = client.get(reverse("studio:playground"), {"reference": f"image:{image.public_id}", "paint": "1"}).text

    assert re.search(r'<div class="mask-editor" data-mask-editor data-open-on-load>', html)
    assert html.count('name="references"') == 1


@pytest.mark.django_db
def test_edit_a_region_on_the_playground_makes_the_image_the_only_reference_with_the_painter_open(client, teammate, made):
    client.force_login(teammate)
    first = made.images.first()

    html = client.post(reverse("studio:references"), {"add": f"image:{first.public_id}", "paint": "1"}, headers=HTMX).text

    assert re.search(r"data-mask-editor data-open-on-load", html)
    assert html.count('name="references"') == 1


@pytest.mark.django_db
def test_using_an_image_as_a_reference_does_not_open_the_painter(client, teammate, made):
    client.force_login(teammate)
    html = client.post(reverse("studio:references"), {"add": f"image:{made.images.first().public_id}"}, headers=HTMX).text
    assert "data-mask-editor" in html and "data-open-on-load" not in html


# -- the lightbox's panel ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_viewer_panel_shows_the_prompt_parameters_and_actions(client, teammate, made):
    client.force_login(teammate)
    image = made.images.get(index=1)

    html = client.get(viewer_url(image), headers=HTMX).text

    assert PROMPT in html
    assert "1:1 square" in html and "2 of 2" in html
    assert ">Download image 2</span>" in html
    assert vary_url(image) in html
    assert "Open image 2 large" not in html  # it is open large


@pytest.mark.django_db
def test_on_the_playground_the_viewer_fills_the_composer_in_place_elsewhere_it_leads_there(client, teammate, made):
    client.force_login(teammate)
    image = made.images.first()
    playground = {"HX-Current-URL": f"http://testserver{reverse('studio:playground')}?g={made.public_id}", **HTMX}
    details = {"HX-Current-URL": f"http://testserver{detail_url(made)}", **HTMX}

    in_place = client.get(viewer_url(image), headers=playground).text
    leading = client.get(viewer_url(image), headers=details).text

    assert 'hx-target="#references-field"' in in_place and "?reference=image:" not in in_place
    assert "?reference=image:" in leading and 'hx-target="#references-field"' not in leading
    assert f'name="next" value="{detail_url(made)}"' in leading  # vary refused comes back here


@pytest.mark.django_db
def test_a_signed_out_viewer_panel_request_is_refused_not_sent_to_sign_in(client, made):
    assert client.get(viewer_url(made.images.first()), headers=HTMX).status_code == 403


# -- lineage -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_generation_made_from_an_image_links_to_its_source_and_the_source_lists_it(client, teammate, team, owner, made):
    client.force_login(teammate)
    image = made.images.get(index=1)
    derived = made_from_image(team, owner, image)
    edited = made_from_image(team, owner, image, prompt="paint the wall green", mode=Mode.EDIT)

    source_page = client.get(detail_url(made)).text
    derived_page = client.get(detail_url(derived)).text

    assert "Made from this" in source_page
    assert f'href="{detail_url(derived)}"' in source_page and "the same bicycle at night" in source_page
    assert f'href="{detail_url(edited)}"' in source_page and "paint the wall green" in source_page
    assert "Made from" in derived_page
    assert f'href="{detail_url(made)}#image-{image.public_id}"' in derived_page
    assert "Image 2 of “a red bicycle leaning on a blue wall”" in derived_page


@pytest.mark.django_db
def test_a_region_edit_of_a_jpeg_result_sent_as_png_still_links_to_its_source(team, owner):
    """A masked edit's image goes out as PNG (the contract's rule): the copy made for it keeps
    the link to the JPEG result it was made from."""
    source = finished_generation(team, owner, prompt="a harbour at noon", n=1)
    image = source.images.get()
    jpeg = image_bytes((image.width, image.height), colour=(200, 90, 40), fmt="JPEG")
    image.file = default_storage.save(f"{image.file.name}.jpg", ContentFile(jpeg))
    image.sha256, image.bytes, image.content_type = hashlib.sha256(jpeg).hexdigest(), len(jpeg), "image/jpeg"
    image.save()

    sent = references.as_png(team, owner, references.from_result(team, owner, image))
    assert sent.is_png and sent.sha256 != image.sha256
    edited = make_generation(team, owner, prompt="the harbour at night", mode=Mode.EDIT)
    GenerationReference.objects.create(generation=edited, reference=sent, position=0)

    assert lineage.sources(edited) == [image]
    assert lineage.made_from(team, [image]) == [edited]


@pytest.mark.django_db
def test_the_viewer_panel_shows_the_lineage_of_that_image(client, teammate, team, owner, made):
    client.force_login(teammate)
    first, second = made.images.all()
    derived = finished_generation(team, owner, prompt="the same bicycle at night", n=1)
    GenerationReference.objects.create(generation=derived, reference=references.from_result(team, owner, second), position=0)

    assert f'href="{detail_url(derived)}"' in client.get(viewer_url(second), headers=HTMX).text
    assert f'href="{detail_url(derived)}"' not in client.get(viewer_url(first), headers=HTMX).text
    assert f"#image-{second.public_id}" in client.get(viewer_url(derived.images.first()), headers=HTMX).text


@pytest.mark.django_db
def test_a_generation_with_no_lineage_shows_none(client, teammate, made):
    client.force_login(teammate)
    assert "Lineage" not in client.get(detail_url(made)).text


@pytest.mark.django_db
def test_lineage_never_crosses_teams_or_reaches_deleted_generations(team, owner, other_team, outsider, made):
    image = made.images.first()
    theirs = finished_generation(other_team, outsider, prompt="theirs", n=1)
    same_bytes = references.store(other_team, outsider, references.from_bytes(stored_bytes(image), "copy.png"))
    GenerationReference.objects.create(generation=theirs, reference=same_bytes, position=0)
    assert lineage.made_from(team, [image]) == []
    assert lineage.sources(theirs) == []

    derived = made_from_image(team, owner, image)
    assert lineage.made_from(team, [image]) == [derived]
    Generation.objects.filter(pk=derived.pk).update(deleted_at=made.created_at)
    assert lineage.made_from(team, [image]) == []
