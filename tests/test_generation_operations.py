"""Tagging and deleting a generation, called as the admin or a script would: the rules
hold without a page in front of them."""

import pytest
from django.core.exceptions import PermissionDenied

from playground.generations import operations
from playground.generations.models import Generation, Status, Tag
from playground.teams.models import AuditEvent, Membership

from .conftest import make_generation, make_user

pytestmark = pytest.mark.django_db


def membership_of(user):
    return Membership.objects.select_related("team", "user").get(user=user)


def test_set_tags_makes_the_teams_tags_and_replaces_the_old_ones(team, teammate, owner):
    generation = make_generation(team, owner, status=Status.COMPLETED)
    operations.set_tags(membership_of(teammate), generation, ["poster", "autumn"])

    operations.set_tags(membership_of(teammate), generation, ["autumn", "blue"])

    assert sorted(generation.tags.values_list("name", flat=True)) == ["autumn", "blue"]
    assert set(Tag.objects.filter(team=team).values_list("name", flat=True)) == {"poster", "autumn", "blue"}


def test_a_viewer_may_not_set_tags(team, owner):
    generation = make_generation(team, owner, status=Status.COMPLETED)
    viewer = make_user("vera", team, Membership.Role.VIEWER)

    with pytest.raises(PermissionDenied):
        operations.set_tags(membership_of(viewer), generation, ["poster"])

    assert not Tag.objects.exists()


def test_a_member_may_not_delete_what_someone_else_made(team, owner, teammate):
    generation = make_generation(team, owner, status=Status.COMPLETED)

    with pytest.raises(PermissionDenied):
        operations.delete_generation(membership_of(teammate), generation)

    assert Generation.objects.filter(pk=generation.pk, deleted_at__isnull=True).exists()


def test_a_running_generation_is_not_deleted_and_nothing_is_logged(team, owner):
    generation = make_generation(team, owner, status=Status.PROCESSING)

    with pytest.raises(operations.StillRunning):
        operations.delete_generation(membership_of(owner), generation)

    assert Generation.objects.get(pk=generation.pk).prompt == generation.prompt
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.GENERATION_DELETED).exists()


def test_the_maker_deletes_it_and_the_audit_log_names_them(team, teammate):
    generation = make_generation(team, teammate, prompt="a red bicycle", status=Status.COMPLETED)

    assert operations.delete_generation(membership_of(teammate), generation) == 0

    assert Generation.objects.get(pk=generation.pk).deleted_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.GENERATION_DELETED)
    assert (event.actor, event.target) == (teammate, "a red bicycle")


def test_a_member_of_another_team_may_neither_tag_nor_delete(team, owner, outsider):
    generation = make_generation(team, owner, prompt="a red bicycle", status=Status.COMPLETED)

    with pytest.raises(PermissionDenied):
        operations.set_tags(membership_of(outsider), generation, ["poster"])
    with pytest.raises(PermissionDenied):
        operations.delete_generation(membership_of(outsider), generation)

    assert not Tag.objects.exists()
    assert Generation.objects.get(pk=generation.pk).prompt == "a red bicycle"
