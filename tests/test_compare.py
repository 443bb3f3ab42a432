"""Comparing two to four of the team's images side by side."""

import re
import uuid

import pytest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from playground.generations.models import GeneratedImage, Status
from playground.teams.models import Membership

from .conftest import make_generation, make_user

pytestmark = pytest.mark.django_db

URL = reverse("studio:compare")
REFUSAL = "Choose two to four images to compare."


def make_image(generation, index=0, size=(1024, 1024), nbytes=1_234_567):
    return GeneratedImage.objects.create(
        generation=generation, index=index, file=f"{generation.public_id}-{index}.png",
        thumbnail=f"{generation.public_id}-{index}.webp", content_type="image/png",
        width=size[0], height=size[1], bytes=nbytes, sha256="0" * 64,
    )


def completed(team, user, prompt, images=1):
    generation = make_generation(team, user, prompt=prompt, status=Status.COMPLETED, n=images)
    return generation, [make_image(generation, index) for index in range(images)]


def shown_images(response):
    """The full-size image links of the compared items, in page order."""
    return re.findall(r'<a class="image-link" data-lightbox href="/images/([0-9a-f-]+)/full"', response.content.decode())


def test_two_images_are_shown_side_by_side_with_their_prompt_size_author_and_details_link(owner_client, team, owner, teammate):
    lighthouse = make_generation(team, owner, prompt="a lighthouse at dawn", size="2:3", status=Status.COMPLETED)
    tall = make_image(lighthouse, size=(1024, 1536), nbytes=2_345_678)
    boat = make_generation(team, teammate, prompt="a paper boat", size="1:1", status=Status.COMPLETED)
    square = make_image(boat, size=(1024, 1024), nbytes=987_654)

    response = owner_client.get(URL, {"image": [tall.public_id, square.public_id]})

    assert response.status_code == 200
    assert shown_images(response) == [str(tall.public_id), str(square.public_id)]  # in the order asked
    page = response.content.decode()
    assert 'class="compare-grid count-2"' in page
    for text in ("a lighthouse at dawn", "2:3 portrait", "1024 × 1536", filesizeformat(2_345_678), "olivia",
                 "a paper boat", "1:1 square", "1024 × 1024", filesizeformat(987_654), "tom"):
        assert text in page
    assert reverse("studio:generation-detail", args=[lighthouse.public_id]) in page
    assert reverse("studio:generation-detail", args=[boat.public_id]) in page


def test_four_images_make_four_columns(owner_client, team, owner):
    _generation, images = completed(team, owner, "four cats", images=4)
    response = owner_client.get(URL, {"image": [image.public_id for image in images]})
    assert response.status_code == 200
    assert 'class="compare-grid count-4"' in response.content.decode()
    assert len(shown_images(response)) == 4


def test_generations_are_compared_by_their_first_image(owner_client, team, owner):
    first, first_images = completed(team, owner, "two lighthouses", images=2)
    second, second_images = completed(team, owner, "one boat")

    response = owner_client.get(URL, {"generation": [first.public_id, second.public_id]})

    assert response.status_code == 200
    assert shown_images(response) == [str(first_images[0].public_id), str(second_images[0].public_id)]


def test_images_and_generations_can_be_mixed(owner_client, team, owner):
    generation, images = completed(team, owner, "two lighthouses", images=2)
    other, other_images = completed(team, owner, "one boat")
    response = owner_client.get(URL, {"image": [images[1].public_id], "generation": [other.public_id]})
    assert shown_images(response) == [str(images[1].public_id), str(other_images[0].public_id)]


@pytest.mark.parametrize("count", [0, 1, 5])
def test_fewer_than_two_or_more_than_four_is_refused_with_a_sentence(owner_client, team, owner, count):
    _generation, images = completed(team, owner, "many cats", images=5)

    response = owner_client.get(URL, {"image": [image.public_id for image in images[:count]]})

    assert response.status_code == 400
    page = response.content.decode()
    assert REFUSAL in page
    if count:
        assert f"You chose {count}." in page
    assert shown_images(response) == []


def test_the_same_image_named_twice_counts_once(owner_client, team, owner):
    _generation, images = completed(team, owner, "a cat")
    response = owner_client.get(URL, {"image": [images[0].public_id, images[0].public_id]})
    assert response.status_code == 400
    assert "You chose 1." in response.content.decode()


def test_a_generation_without_images_is_left_out_and_said_so(owner_client, team, owner):
    first, first_images = completed(team, owner, "a lighthouse")
    second, second_images = completed(team, owner, "a boat")
    failed = make_generation(team, owner, prompt="refused", status=Status.FAILED)

    response = owner_client.get(URL, {"generation": [first.public_id, failed.public_id, second.public_id]})

    assert response.status_code == 200
    assert shown_images(response) == [str(first_images[0].public_id), str(second_images[0].public_id)]
    assert "1 of the chosen generations has no images yet, so it is left out." in response.content.decode()


def test_too_few_generations_with_images_is_refused(owner_client, team, owner):
    first, _images = completed(team, owner, "a lighthouse")
    failed = make_generation(team, owner, prompt="refused", status=Status.FAILED)

    response = owner_client.get(URL, {"generation": [first.public_id, failed.public_id]})

    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    assert shown_images(response) == []


def test_another_teams_image_is_a_404(client, team, owner, other_team, outsider):
    _mine, my_images = completed(other_team, outsider, "rival's cat")
    _theirs, their_images = completed(team, owner, "zebra-7731 lighthouse")
    client.force_login(outsider)

    response = client.get(URL, {"image": [my_images[0].public_id, their_images[0].public_id]})

    assert response.status_code == 404
    assert "zebra-7731" not in response.content.decode()


def test_another_teams_generation_is_a_404(client, team, owner, other_team, outsider):
    mine, _images = completed(other_team, outsider, "rival's cat")
    theirs, _images = completed(team, owner, "zebra-7731 lighthouse")
    client.force_login(outsider)

    response = client.get(URL, {"generation": [mine.public_id, theirs.public_id]})

    assert response.status_code == 404
    assert "zebra-7731" not in response.content.decode()


@pytest.mark.parametrize("unknown", [str(uuid.uuid4()), "not-an-id"], ids=["unknown-uuid", "not-an-id"])
def test_an_unknown_id_is_a_404(owner_client, team, owner, unknown):
    _generation, images = completed(team, owner, "a cat")
    response = owner_client.get(URL, {"image": [images[0].public_id, unknown]})
    assert response.status_code == 404


def test_a_viewer_may_compare(client, team, owner):
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    _generation, images = completed(team, owner, "two cats", images=2)
    client.force_login(viewer)
    response = client.get(URL, {"image": [image.public_id for image in images]})
    assert response.status_code == 200
    assert len(shown_images(response)) == 2


def test_signed_out_it_asks_to_sign_in(client, team, owner):
    _generation, images = completed(team, owner, "two cats", images=2)
    response = client.get(URL, {"image": [image.public_id for image in images]})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
