"""The budgets page: owners set the team's and each member's monthly credit budget."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.generations.models import Generation, Status
from playground.teams.models import AuditEvent, Membership

from .conftest import make_generation, make_user

pytestmark = pytest.mark.django_db


def field_name(membership):
    return f"member-{membership.pk}"


def form_data(for_team, **changes):
    """What the page's form sends unchanged (every budget as it is), with `changes` applied."""
    data = {"team": for_team.monthly_budget or ""}
    for membership in Membership.objects.filter(team=for_team):
        data[field_name(membership)] = membership.monthly_budget or ""
    return {**data, **changes}


def budget_events(team):
    return list(
        AuditEvent.objects.filter(team=team, action="budget.changed")
        .order_by("id")
        .values_list("details", flat=True)
    )


@pytest.fixture
def tom(teammate, team):
    return Membership.objects.get(team=team, user=teammate)


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_owners_reach_the_budgets(client, team, role):
    person = make_user("someone", team, role)
    client.force_login(person)
    membership = Membership.objects.get(user=person)
    assert client.get(reverse("studio:budgets")).status_code == 403
    response = client.post(reverse("studio:budgets"), {"team": "5", field_name(membership): "1000"})
    assert response.status_code == 403
    team.refresh_from_db()
    membership.refresh_from_db()
    assert team.monthly_budget is None and membership.monthly_budget is None
    assert budget_events(team) == []


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("studio:budgets"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_has_a_labelled_budget_field_per_member(owner_client, team, owner, tom):
    page = owner_client.get(reverse("studio:budgets")).content.decode()
    owner_membership = Membership.objects.get(user=owner)
    for membership, name in ((owner_membership, "olivia"), (tom, "tom")):
        field = field_name(membership)
        assert f'<label for="id_{field}" class="visually-hidden">Monthly budget for {name}</label>' in page
        assert re.search(rf'<input type="number" name="{field}" id="id_{field}" value=""', page)
    assert '<label for="id_team">Team budget (credits per month)</label>' in page


def test_the_page_shows_what_is_spent_this_month_beside_each_budget(owner_client, team, owner, teammate):
    make_generation(
        team, owner, n=2, status=Status.COMPLETED, credits_estimated=Decimal(3), credits_charged=Decimal(3)
    )
    make_generation(team, teammate, n=1, status=Status.PROCESSING, credits_estimated=Decimal("1.5"))
    make_generation(
        team,
        teammate,
        credits_estimated=Decimal(100),
        credits_charged=Decimal(100),
        created_at=timezone.now() - timedelta(days=40),
    )

    page = owner_client.get(reverse("studio:budgets")).content.decode()
    assert "The team has used 4.5 credits this month." in page
    rows = dict(
        re.findall(r'<th scope="row">(\w+)</th>\s*<td data-label="Role">\w+</td>\s*<td class="number" data-label="Used this month">([\d.]+)</td>', page)
    )
    assert rows == {"olivia": "3", "tom": "1.5"}


def test_saving_writes_only_what_changed_and_audits_each_change(owner_client, team, owner, tom):
    tom.monthly_budget = Decimal(20)
    tom.save()
    response = owner_client.post(
        reverse("studio:budgets"), form_data(team, team="100.5", **{field_name(tom): "20.00"})
    )
    assert response.status_code == 302 and response["Location"] == reverse("studio:budgets")

    team.refresh_from_db()
    assert team.monthly_budget == Decimal("100.50")
    assert budget_events(team) == [{"budget": "team", "from": None, "to": "100.5"}]
    assert "The budgets are saved." in owner_client.get(reverse("studio:budgets")).content.decode()

    owner_client.post(reverse("studio:budgets"), form_data(team, team="100.5", **{field_name(tom): ""}))
    tom.refresh_from_db()
    assert tom.monthly_budget is None
    assert budget_events(team)[1:] == [{"budget": "member", "member": "tom", "from": "20", "to": None}]
    event = AuditEvent.objects.filter(action="budget.changed").latest("id")
    assert (event.actor, event.target) == (owner, "tom")


def test_the_page_shows_the_saved_budgets(owner_client, team, tom):
    owner_client.post(reverse("studio:budgets"), form_data(team, team="50", **{field_name(tom): "7.25"}))
    page = owner_client.get(reverse("studio:budgets")).content.decode()
    assert 'name="team" id="id_team" value="50.00"' in page
    assert f'name="{field_name(tom)}" id="id_{field_name(tom)}" value="7.25"' in page


@pytest.mark.parametrize("bad", ["-1", "abc", "1.234", "1e400", "12345678901"])
def test_a_bad_budget_is_refused_next_to_its_field_and_nothing_is_saved(owner_client, team, tom, bad):
    data = form_data(team, team="100", **{field_name(tom): bad})
    response = owner_client.post(reverse("studio:budgets"), data)
    page = response.content.decode()

    assert response.status_code == 400
    assert "Nothing was saved" in page
    error = re.search(rf'<p class="error" id="{field_name(tom)}-error">([^<]*)</p>', page)
    assert error and "0 or more, with at most 2 decimals" in error.group(1)
    assert 'id="team-error"' not in page
    assert f'value="{bad}"' in page  # kept, to be corrected
    team.refresh_from_db()
    tom.refresh_from_db()
    assert (
        team.monthly_budget is None and tom.monthly_budget is None
    )  # the valid team budget was not saved either
    assert budget_events(team) == []


def test_saving_nothing_new_records_nothing(owner_client, team, tom):
    response = owner_client.post(reverse("studio:budgets"), form_data(team))
    assert response.status_code == 302
    assert budget_events(team) == []
    assert "Nothing changed." in owner_client.get(reverse("studio:budgets")).content.decode()


def test_a_budget_set_here_refuses_a_generation_that_would_exceed_it(owner_client, team, owner):
    membership = Membership.objects.get(user=owner)
    owner_client.post(reverse("studio:budgets"), form_data(team, **{field_name(membership): "2"}))
    response = owner_client.post(
        reverse("studio:generate"), {"prompt": "a lighthouse", "size": "1:1", "n": 2}
    )
    assert response.status_code == 400
    assert "your monthly budget has 2 of 2 credits left" in response.content.decode()
    assert not Generation.objects.exists()


def test_budgets_of_another_team_are_untouched(owner_client, team, other_team, outsider):
    foreign = Membership.objects.get(user=outsider)
    response = owner_client.post(reverse("studio:budgets"), {"team": "", field_name(foreign): "1"})
    assert response.status_code == 302  # an unknown field is ignored
    foreign.refresh_from_db()
    assert foreign.monthly_budget is None


def test_budget_fields_hold_plain_numbers_even_where_numbers_are_grouped(owner_client, team, tom, settings):
    """A number input takes only 12345.5, never the page's 12,345.5."""
    settings.USE_THOUSAND_SEPARATOR = True
    team.monthly_budget = Decimal("12345.50")
    team.save()
    tom.monthly_budget = Decimal(2000)
    tom.save()
    page = owner_client.get(reverse("studio:budgets")).content.decode()
    assert 'name="team" id="id_team" value="12345.50"' in page
    assert f'name="{field_name(tom)}" id="id_{field_name(tom)}" value="2000.00"' in page


def test_credits_used_are_written_as_the_page_writes_numbers(owner_client, team, owner, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    make_generation(
        team,
        owner,
        status=Status.COMPLETED,
        credits_estimated=Decimal(1234),
        credits_charged=Decimal("1234.5"),
    )
    page = owner_client.get(reverse("studio:budgets")).content.decode()
    assert "The team has used 1,234.5 credits this month." in page
    assert re.search(r'<th scope="row">olivia</th>\s*<td data-label="Role">\w+</td>\s*<td class="number" data-label="Used this month">1,234.5</td>', page)
