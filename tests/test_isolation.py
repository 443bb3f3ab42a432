"""Team isolation, URL by URL: a member of another team gets a 404 for anything of this
team's, and sees none of its data on their own pages; a viewer's writes get a 403.

The last test fails when a URL is added without being listed here."""

import re

import pytest
from django.urls import get_resolver, reverse

from playground.batches.models import Batch, BatchRow
from playground.generations.models import GeneratedImage, Generation, Reference, Status
from playground.library import prompts as library
from playground.library.models import SavedPrompt
from playground.teams import tokens
from playground.teams.models import Invitation, Membership, PersonalToken

from .conftest import make_generation, make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SECRET_PROMPT = "zebra-7731 lighthouse"  # appears only in the team's own data


@pytest.fixture
def things(team, owner, teammate):
    generation = make_generation(team, owner, prompt=SECRET_PROMPT, status=Status.COMPLETED)
    stored = {"content_type": "image/png", "width": 8, "height": 8, "bytes": 1, "sha256": "0" * 64}
    image = GeneratedImage.objects.create(
        generation=generation, index=0, file="x.png", thumbnail="x.webp", raw_file="y.png", **stored
    )
    reference = Reference.objects.create(team=team, file="r.png", thumbnail="r.webp", original_name="zebra.png", **stored)
    invitation, _token = Invitation.issue(team, owner, Membership.Role.MEMBER, note="zebra-7731 newcomer")
    personal_token, _plain = tokens.issue(team, owner, name="zebra-7731 script")
    batch = Batch.objects.create(team=team, created_by=owner, name="zebra-7731 batch", template="a {{zebra}}", size="1:1", n=1)
    BatchRow.objects.create(batch=batch, number=2, values={"zebra": "zebra-7731"}, prompt=SECRET_PROMPT, generation=generation)
    return {
        "batch": batch,
        "generation": generation,
        "image": image,
        "reference": reference,
        "membership": teammate.memberships.get(),
        "invitation": invitation,
        "personal_token": personal_token,
        "saved_prompt": library.save(
            owner.memberships.get(), title="zebra-7731 template", text="a {{zebra}}", tags=["zebra-7731"], shared=True
        ),
    }


# name → (method, args from the things, data) for URLs that name one of the team's objects.
OBJECT_URLS = {
    "studio:generation": ("get", lambda t: [t["generation"].public_id], None),
    "studio:favourite": ("post", lambda t: [t["generation"].public_id], {}),
    "studio:gallery-tile": ("get", lambda t: [t["generation"].public_id], None),
    "studio:generation-detail": ("get", lambda t: [t["generation"].public_id], None),
    "studio:generation-tags": ("post", lambda t: [t["generation"].public_id], {"tags": "zebra"}),
    "studio:generation-delete": ("post", lambda t: [t["generation"].public_id], {}),
    "studio:generation-cancel": ("post", lambda t: [t["generation"].public_id], {}),
    "studio:image": ("get", lambda t: [t["image"].public_id, "full"], None),
    "studio:image-vary": ("post", lambda t: [t["image"].public_id], {}),
    "studio:image-viewer": ("get", lambda t: [t["image"].public_id], None),
    "studio:reference": ("get", lambda t: [t["reference"].public_id, "full"], None),
    "studio:generation-zip": ("get", lambda t: [t["generation"].public_id], None),
    # The ids are in the POST body: data may be a function of the things, too.
    "studio:selection-zip": ("post", lambda t: [], lambda t: {"generation": [t["generation"].public_id]}),
    "studio:batch": ("get", lambda t: [t["batch"].public_id], None),
    "studio:batch-progress": ("get", lambda t: [t["batch"].public_id], None),
    "studio:batch-zip": ("get", lambda t: [t["batch"].public_id], None),
    "studio:batch-retry": ("post", lambda t: [t["batch"].public_id], {}),
    "studio:batch-cancel": ("post", lambda t: [t["batch"].public_id], {}),
    "teams:change-role": ("post", lambda t: [t["membership"].pk], {"role": "viewer"}),
    "teams:remove-member": ("post", lambda t: [t["membership"].pk], {}),
    "teams:revoke-invitation": ("post", lambda t: [t["invitation"].pk], {}),
    "studio:revoke-token": ("post", lambda t: [t["personal_token"].prefix], {}),
    "studio:token-callback-secret": ("get", lambda t: [t["personal_token"].prefix], None),
    "library:edit": ("post", lambda t: [t["saved_prompt"].pk], {"title": "mine now", "text": "x", "shared": "team"}),
    "library:delete": ("post", lambda t: [t["saved_prompt"].pk], {}),
    "library:use": ("post", lambda t: [t["saved_prompt"].pk], {}),
}

# URLs that act on whichever team the person is in; an outsider gets their own team's.
TEAM_PAGES = {
    "studio:playground": ("get", None),
    "studio:history": ("get", None),
    "studio:generations": ("get", None),
    "studio:earlier-references": ("get", None),
    "studio:code": ("post", {"prompt": "a cat", "size": "1:1", "n": "1"}),
    "teams:members": ("get", None),
    "studio:usage": ("get", None),
    "studio:usage-csv": ("get", None),
    "studio:usage-balance": ("get", None),
    "teams:audit": ("get", None),
    "studio:key": ("get", None),
    "studio:key-hosted-files": ("get", None),
    "studio:budgets": ("get", None),
    "studio:tokens": ("get", None),
    "library:library": ("get", None),
    "studio:batches": ("get", None),
    "library:picker": ("get", None),
    "studio:batch-new": ("get", None),
    "studio:batch-preview": ("post", {"template": "A {{thing}}", "source": "values", "values-thing": "cat", "size": "1:1", "n": "1"}),
}

# Writes a viewer may not make, with the data a member would send.
VIEWER_WRITES = {
    "studio:generate": {"prompt": "a cat", "size": "1:1", "n": "1"},
    "studio:references": {},
    "studio:mask-preview": {},
    "studio:image-vary": {},
    "studio:generation-tags": {"tags": "zebra"},
    "studio:generation-delete": {},  # a viewer who did not make it
    "teams:invite": {"role": "member"},
    "studio:key": {"api_key": "sk-evo-abcd"},
    "studio:test-key": {},
    "studio:budgets": {},
    "teams:change-role": {"role": "viewer"},
    "teams:remove-member": {},
    "teams:revoke-invitation": {},
    "studio:create-token": {"name": "zebra"},
    "library:save": {"title": "zebra", "text": "a zebra", "shared": "team"},
    "library:use": {},
    "library:edit": {"title": "zebra", "text": "a zebra", "shared": "team"},  # the owner's, shared
    "library:delete": {},
    "studio:batch-new": {"name": "zebra", "template": "A {{thing}}", "source": "values", "values-thing": "cat", "size": "1:1", "n": "1"},
    "studio:batch-preview": {"template": "A {{thing}}", "source": "values", "values-thing": "cat", "size": "1:1", "n": "1"},
    "studio:batch-retry": {},
    "studio:batch-cancel": {},
}

# URLs whose access is not by team: the secret in them is the permission.
NOT_TEAM_SCOPED = {
    "studio:image": None,  # listed above; the raw and thumb variants are tested below
    "studio:compare": "ids are in the query; tested in test_compare",
    "teams:create": "any signed-in person may start a team",
    "teams:switch": "tested below: only to one's own teams",
    "teams:leave": "acts on one's own membership",
    "teams:accept-invitation": "the single-use token is the permission; tested in test_team_members",
    "teams:accept-pending-invitation": "the invitation opened by its link in this session; tested in test_team_members",
}


def request(client, method, url, data=None):
    if method == "get":
        return client.get(url, headers=HTMX)
    return client.post(url, data or {}, headers=HTMX)


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_a_member_of_another_team_gets_a_404_for_this_teams_objects(client, outsider, things, name):
    method, args, data = OBJECT_URLS[name]
    client.force_login(outsider)
    before = list(Membership.objects.order_by("pk").values_list("pk", "role"))

    response = request(client, method, reverse(name, args=args(things)), data(things) if callable(data) else data)

    assert response.status_code == 404
    assert list(Membership.objects.order_by("pk").values_list("pk", "role")) == before
    assert Invitation.objects.pending().count() == 1
    assert PersonalToken.objects.filter(revoked_at__isnull=True).count() == 1
    assert SavedPrompt.objects.filter(title="zebra-7731 template", last_used_at=None).count() == 1


@pytest.mark.parametrize("variant", ["thumb", "raw"])
def test_other_variants_of_an_image_are_404_too(client, outsider, things, variant):
    client.force_login(outsider)
    response = client.get(reverse("studio:image", args=[things["image"].public_id, variant]))
    assert response.status_code == 404


def test_opening_another_teams_generation_in_the_playground_is_a_404(client, outsider, things):
    client.force_login(outsider)
    response = client.get(reverse("studio:playground"), {"g": things["generation"].public_id})
    assert response.status_code == 404


@pytest.mark.parametrize("picked", ["image", "reference"])
def test_another_teams_image_cannot_be_picked_as_a_reference(client, outsider, things, picked):
    client.force_login(outsider)
    response = client.post(
        reverse("studio:references"), {"add": f"{picked}:{things[picked].public_id}"}, headers=HTMX
    )
    assert response.status_code == 404
    assert Reference.objects.count() == 1


@pytest.mark.parametrize("name", TEAM_PAGES)
def test_another_teams_pages_show_none_of_this_teams_data(client, outsider, things, name):
    method, data = TEAM_PAGES[name]
    client.force_login(outsider)
    response = request(client, method, reverse(name), data)

    assert response.status_code in (200, 286)  # 286: the idle History panel stops polling
    body = response.content.decode()
    assert "zebra-7731" not in body
    assert "Acme studio" not in body
    assert not re.search(r"\b(olivia|tom)\b", body)  # this team's people


def test_switching_to_a_team_one_is_not_in_is_a_404(client, outsider, team):
    client.force_login(outsider)
    response = client.post(reverse("teams:switch"), {"team": team.pk})
    assert response.status_code == 404
    assert "Acme studio" not in client.get(reverse("studio:playground")).content.decode()


@pytest.mark.parametrize("name", VIEWER_WRITES)
def test_a_viewers_writes_are_refused_with_403(client, team, things, name):
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    client.force_login(viewer)
    args = OBJECT_URLS[name][1](things) if name in OBJECT_URLS else []
    generations = Generation.objects.count()

    response = client.post(reverse(name, args=args), VIEWER_WRITES[name], headers=HTMX)

    assert response.status_code == 403
    assert Generation.objects.count() == generations
    assert list(SavedPrompt.objects.values_list("title", "last_used_at")) == [("zebra-7731 template", None)]
    assert Membership.objects.get(pk=things["membership"].pk).role == Membership.Role.MEMBER
    assert Invitation.objects.pending().count() == 1


def test_every_url_of_the_app_is_covered_here():
    resolver = get_resolver()
    names = {
        f"{namespace}:{name}"
        for namespace in ("studio", "teams", "library")
        for name in resolver.namespace_dict[namespace][1].reverse_dict
        if isinstance(name, str)
    }
    covered = set(OBJECT_URLS) | set(TEAM_PAGES) | set(VIEWER_WRITES) | set(NOT_TEAM_SCOPED)
    assert names - covered == set()
