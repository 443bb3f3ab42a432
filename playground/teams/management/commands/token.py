"""`manage.py token create --user U [--team T] [--name N]`: a personal token for scripts, printed once.

Also `token list` (prefixes, never tokens) and `token revoke PREFIX`, for operators.
"""

import sys
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from playground.teams import roles, tokens
from playground.teams.models import Membership, PersonalToken


class Command(BaseCommand):
    help = "Make, list or revoke personal tokens (the key a member's scripts use for the team's account)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, title="actions")
        create = actions.add_parser("create", help="make a token and print it, this once")
        create.add_argument("--user", required=True, help="the member's user name")
        create.add_argument("--team", help="team slug (default: the member's only team)")
        create.add_argument("--name", default="command line", help="what will use it")
        create.add_argument("--days", type=int, help="it stops working after this many days (default: never)")
        create.add_argument("--monthly-cap", help="the most its generations may use in a month, in credits")
        listing = actions.add_parser("list", help="list tokens by prefix (never the tokens themselves)")
        listing.add_argument("--team", help="only this team's (slug)")
        revoke = actions.add_parser("revoke", help="revoke a token, named by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        getattr(self, action)(**options)

    @sensitive_variables("plain")
    def create(self, user, team, name, days, monthly_cap, **_options):
        membership = member(user, team)
        if not roles.may_hold_tokens(membership):
            raise CommandError(f"{user} is a viewer in {membership.team.slug}: viewers make no tokens.")
        name = name.strip()
        if not name or len(name) > PersonalToken._meta.get_field("name").max_length:
            raise CommandError("--name: give a name of 1 to 100 characters.")
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days: give a number of days from 1 to 3650.")
        token, plain = tokens.issue_own(
            membership,
            name=name,
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            monthly_cap=cap(monthly_cap),
        )
        self.stdout.write(plain)
        sys.stderr.write(
            f"Made the token “{token.name}” ({token.prefix}…) of {user} in {membership.team.slug}. "
            "Keep it now: it is not shown again.\n"
        )

    def list(self, team, **_options):
        shown = PersonalToken.objects.select_related("team", "user").order_by("team__slug", "-created_at")
        if team:
            shown = shown.filter(team__slug=team)
        for token in shown:
            state = "revoked" if token.revoked_at else "expired" if token.is_expired else "active"
            self.stdout.write(
                f"{token.prefix}\t{token.team.slug}\t{token.user.get_username()}\t{state}\t{token.name}"
            )

    def revoke(self, prefix, **_options):
        token = PersonalToken.objects.select_related("team", "user").filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No token with the prefix {prefix!r}.")
        if not tokens.revoke(token, None):
            raise CommandError(f"The token {prefix} was revoked already.")
        self.stdout.write(f"Revoked {prefix} ({token.name}).")


def member(username, slug):
    """The membership of `username` in the team `slug`, or in their only team."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    memberships = Membership.objects.filter(user=user).select_related("team", "user")
    if slug:
        memberships = memberships.filter(team__slug=slug)
    found = list(memberships[:2])
    if not found:
        raise CommandError(
            f"{username} is not in the team {slug!r}." if slug else f"{username} is in no team."
        )
    if len(found) > 1:
        raise CommandError(f"{username} is in several teams: name one with --team SLUG.")
    return found[0]


def cap(text):
    if text is None:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount != round(amount, 2)
        or amount >= 10**10
    ):
        raise CommandError("--monthly-cap: give a number of credits, 0 or more, with at most 2 decimals.")
    return amount
