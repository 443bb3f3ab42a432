"""Budgets: credits are reserved before anything is sent, refused when a budget would be
passed, and charged for the images the service actually produced."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from playground.generations import credits, totals
from playground.generations.models import CreditTotal, Generation, Status

from .conftest import drive, make_user
from .images import upload
from .test_bad_input import error_text, snapshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

HTMX = {"HX-Request": "true"}


def generate(client, htmx=True, **fields):
    data = {"prompt": "a lighthouse at dawn", "size": "1:1", "n": "1", **fields}
    return client.post(reverse("studio:generate"), data, headers=HTMX if htmx else {})


def set_team_budget(team, amount):
    team.monthly_budget = Decimal(amount)
    team.save(update_fields=["monthly_budget"])


def test_a_generation_reserves_credits_for_n_images_before_it_is_sent(owner_client, settings):
    settings.CREDITS_PER_IMAGE = 1.5
    generate(owner_client, n="4")
    assert Generation.objects.get().credits_estimated == Decimal("6")


def test_a_request_over_the_team_budget_is_refused_next_to_the_count_and_nothing_happens(
    owner_client, team, sandbox
):
    set_team_budget(team, "4")
    before = snapshot(sandbox)
    response = generate(owner_client, n="4", images=upload("reference.png"))

    assert response.status_code == 200
    message = error_text(response, "n")
    assert "This needs 6 credits" in message
    assert "the team's monthly budget has 4 of 4 credits left" in message
    assert Generation.objects.count() == 0
    assert snapshot(sandbox) == before  # no reference stored, no task, no credits reserved upstream


def test_a_refused_full_page_post_shows_the_message_too(owner_client, team):
    set_team_budget(team, "1")
    response = generate(owner_client, htmx=False, n="1")
    assert response.status_code == 400
    assert "This needs 1.5 credits" in error_text(response, "n")


def test_running_generations_hold_their_reservation_until_they_end(owner_client, team):
    set_team_budget(team, "4")
    first = generate(owner_client, n="2")  # reserves 3 of 4
    assert first.status_code == 200
    assert "has 1 of 4 credits left" in error_text(generate(owner_client, n="1"), "n")
    assert Generation.objects.count() == 1


def test_a_failed_task_is_not_charged_and_frees_its_credits(owner_client, team):
    set_team_budget(team, "3")
    generate(owner_client, n="2", prompt="a poster [sandbox:fail=content_policy_violation]")
    generation = drive(Generation.objects.get())

    assert generation.status == Status.FAILED
    assert generation.credits_charged == 0
    assert credits.spent(credits.this_month(team)) == 0
    generate(owner_client, n="2")
    assert Generation.objects.count() == 2


def test_fewer_images_delivered_than_asked_are_charged_fewer(owner_client, team):
    generate(owner_client, n="4", prompt="four menus [sandbox:produce=1]")
    generation = drive(Generation.objects.get())

    assert generation.status == Status.COMPLETED
    assert generation.images.count() == 1
    assert generation.credits_reserved == Decimal("6")  # as the service reserved it, for 4
    assert generation.credits_charged == Decimal("1.5")  # a quarter of it: one image produced


def test_a_member_budget_limits_that_member_only(client, team, owner):
    member = make_user("mia", team)
    membership = member.memberships.get()
    membership.monthly_budget = Decimal("2")
    membership.save()
    client.force_login(member)

    assert generate(client, n="1").status_code == 200
    message = error_text(generate(client, n="1"), "n")
    assert "your monthly budget has 0.5 of 2 credits left" in message

    client.force_login(owner)  # the owner has no budget of their own, and the team none
    generate(client, n="4")
    assert Generation.objects.filter(created_by=owner).count() == 1


def test_last_months_generations_do_not_count_against_this_month(owner_client, team, owner):
    set_team_budget(team, "3")
    generate(owner_client, n="2")
    Generation.objects.update(created_at=credits.month_start() - timedelta(days=1))
    totals.rebuild(team)  # the rows were moved by hand: count them again
    assert generate(owner_client, n="2").status_code == 200
    assert Generation.objects.count() == 2


def test_two_people_submitting_at_once_against_the_last_credits_cannot_both_spend_them(team, monkeypatch):
    """Both requests pass the form at once; each reads "3 left" from the month's totals
    before either writes, unless the team's row is locked."""
    from .races import racing

    set_team_budget(team, "3")

    def submit(person):
        client = Client()
        client.force_login(person)

        def request():
            response = generate(client, n="2")
            return response.status_code, 'id="n-error"' in response.text

        return request

    people = [make_user(name, team) for name in ("ana", "ben")]
    answers = racing([submit(person) for person in people], CreditTotal._meta.db_table, monkeypatch)

    assert Generation.objects.count() == 1
    assert sorted(answers, key=str) == [(200, False), (200, True)], answers
    assert credits.spent(credits.this_month(team)) == Decimal("3")


def test_the_form_says_what_the_budgets_have_left(client, team):
    set_team_budget(team, "100")
    member = make_user("mia", team)
    member.memberships.update(monthly_budget=Decimal("10"))
    client.force_login(member)
    generate(client, n="2")

    page = client.get(reverse("studio:playground")).text
    assert "The team has 97 of 100 credits left this month." in page
    assert "You have 7 of 10 credits left this month." in page


def test_without_budgets_the_form_says_nothing_about_them(owner_client):
    assert "credits left this month" not in owner_client.get(reverse("studio:playground")).text


def test_the_result_card_shows_the_reservation_then_the_charge(owner_client):
    page = generate(owner_client, n="2", prompt="two posters [sandbox:produce=1]").text
    assert "3 credits reserved" in page
    generation = drive(Generation.objects.get())
    card = owner_client.get(reverse("studio:generation", args=[generation.public_id]), headers=HTMX).text
    assert "Charged 1.5 credits" in card, card[card.find("meta credits"):][:200]


def test_deleting_a_generation_gives_no_credits_back(owner_client, team):
    set_team_budget(team, "3")
    generate(owner_client, n="2")
    generation = drive(Generation.objects.get())
    owner_client.post(reverse("studio:generation-delete", args=[generation.public_id]))

    assert Generation.objects.for_team(team).count() == 0
    assert "has 0 of 3 credits left" in error_text(generate(owner_client, n="1"), "n")
