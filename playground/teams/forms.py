"""The teams' forms: signing up, a new team, an invitation, the team's EvoLink key and base URLs,
its budgets, a personal token."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from playground.evolink.addresses import client_can_use
from playground.evolink.contract import public_https_url_problem

from .models import BUDGET_RULE, Invitation, Membership, PersonalToken, Team
from .upstream import sandbox_in_use

KEY_MIN_LENGTH = 8
KEY_MAX_LENGTH = 200
# Visible ASCII only: the key travels in an HTTP header, which cannot carry anything else.
KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")
URL_MAX_LENGTH = 300

URL_PROBLEMS = {
    "too_long": _("The address can be at most %(limit)d characters long."),
    "not_https": _("Enter an https:// address, such as https://api.evolink.ai."),
    "internal": _(
        "The address must not point to an internal or loopback address (only the built-in sandbox may)."
    ),
}


class SignUpForm(UserCreationForm):
    """Django's sign-up form, with each error under the field it is about: the password rules
    under the password, a mismatch under its confirmation (Django puts both there).

    The passwords are sent back into the page only when neither had an error, so someone who
    only has to change the username need not type them again; otherwise both are cleared
    and `passwords_cleared` says so.
    """

    PASSWORDS = ("password1", "password2")

    def validate_password_for_user(self, user, password_field_name="password1"):
        super().validate_password_for_user(user, password_field_name)

    def full_clean(self):
        super().full_clean()
        keep = self.is_bound and not self.passwords_cleared
        for name in self.PASSWORDS:
            self.fields[name].widget.render_value = keep

    @property
    def passwords_cleared(self):
        """Whether a password was typed and is not sent back because one of them was refused."""
        typed = any(self.data.get(name) for name in self.PASSWORDS)
        return self.is_bound and typed and any(name in self.errors for name in self.PASSWORDS)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=Team._meta.get_field("name").max_length)


class InvitationForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )
    note = forms.CharField(
        label=_("For whom"),
        max_length=Invitation._meta.get_field("note").max_length,
        required=False,
        help_text=_("A name or an email address, so you recognise the invitation later. Nothing is sent."),
    )


def check_api_key(key):
    """The key as typed, without surrounding spaces; messages never repeat any of it."""
    key = key.strip()
    if not key:
        return key
    if len(key) > KEY_MAX_LENGTH:
        raise ValidationError(
            _("An API key is at most %(limit)d characters long; this one is longer. Paste only the key."),
            params={"limit": KEY_MAX_LENGTH},
        )
    if not KEY_CHARACTERS.fullmatch(key):
        raise ValidationError(
            _(
                "An API key holds only ASCII letters, digits and punctuation: no accented letters, "
                "spaces, line breaks or control characters. Paste only the key."
            )
        )
    if len(key) < KEY_MIN_LENGTH:
        raise ValidationError(
            _("An API key is at least %(limit)d characters long; this one is shorter. Paste the whole key."),
            params={"limit": KEY_MIN_LENGTH},
        )
    return key


def check_base_url(url):
    """An https:// address outside the local network, or exactly the built-in sandbox's address
    while the deployment uses its sandbox.

    The team's key is sent to this address, so it must not be a place inside the
    deployment's network (the sandbox is the one exception, and it is named in settings;
    without USE_SANDBOX whatever listens there is no sandbox of the operator's).
    """
    url = url.strip().rstrip("/")
    if sandbox_in_use() and url == settings.SANDBOX_URL.rstrip("/"):
        return url
    problem = public_https_url_problem(url, URL_MAX_LENGTH)
    if problem:
        raise ValidationError(URL_PROBLEMS[problem], params={"limit": URL_MAX_LENGTH})
    parts = urlsplit(url)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(_("Enter only the service's address, without a user name, query or #fragment."))
    if not client_can_use(url):
        raise ValidationError(
            _(
                "This address cannot be used: write its host as a name, such as api.evolink.ai, "
                "or as a plain IP address."
            )
        )
    return url


def api_key_field(**kwargs):
    return forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        # Never put the key back into a page, not even after an error.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
        **kwargs,
    )


class KeyAndAddressChecks:
    """The cleaning shared by the owners' key form and the operators' admin form.

    Both have the fields api_key, api_base_url and files_base_url.
    """

    def clean_api_key(self):
        return check_api_key(self.cleaned_data["api_key"])

    def clean_api_base_url(self):
        url = self.cleaned_data["api_base_url"]
        return check_base_url(url) if url else ""

    def clean_files_base_url(self):
        url = self.cleaned_data["files_base_url"]
        return check_base_url(url) if url else ""

    def require_key_for_new_address(self, team, keeps_stored_key):
        """A stored key goes to a new address only when it is typed again with it.

        Otherwise whoever may edit the addresses could send the team's key to a server
        of their choosing (and "Test the key" would do it at once) without knowing it.
        """
        if not (team.has_api_key and keeps_stored_key):
            return
        names = ("api_base_url", "files_base_url")
        if any(name not in self.cleaned_data for name in names):
            return  # an invalid address has its own error, and nothing is saved
        stored = [(getattr(team, name) or "").strip().rstrip("/") for name in names]
        if [self.cleaned_data[name] for name in names] != stored:
            self.add_error("api_key", _("Enter the key again to use it with a new address."))


class KeyForm(KeyAndAddressChecks, forms.Form):
    """Set or replace the team's key (blank keeps the current one) and where it is sent."""

    api_key = api_key_field()
    api_base_url = forms.CharField(label=_("API base URL"), required=False, strip=True)
    files_base_url = forms.CharField(label=_("File hosting base URL"), required=False, strip=True)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean(self):
        cleaned = super().clean()
        if "api_key" in cleaned:  # else the typed key has its own error
            self.require_key_for_new_address(self.team, keeps_stored_key=not cleaned["api_key"])
        return cleaned


class BudgetField(forms.DecimalField):
    """Credits per month: blank means no limit."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            min_value=Decimal(0),
            max_digits=12,
            decimal_places=2,
            error_messages={
                key: BUDGET_RULE
                for key in ("invalid", "min_value", "max_digits", "max_decimal_places", "max_whole_digits")
            },
            **kwargs,
        )

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(inputmode="decimal")
        return attrs


class BudgetsForm(forms.Form):
    """The team's monthly budget and one per member, as `team` and `member-<membership id>`."""

    def __init__(self, *args, team, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.memberships = list(memberships)
        self.fields["team"] = BudgetField(label=_("Team budget"), initial=team.monthly_budget)
        for membership in self.memberships:
            self.fields[self.member_field(membership)] = BudgetField(
                label=membership.user.get_username(), initial=membership.monthly_budget
            )

    @staticmethod
    def member_field(membership):
        return f"member-{membership.pk}"

    def member_rows(self):
        return [(membership, self[self.member_field(membership)]) for membership in self.memberships]

    def changes(self):
        """[(membership or None for the team, new budget)] for every budget that differs."""
        changed = []
        if self.cleaned_data["team"] != self.team.monthly_budget:
            changed.append((None, self.cleaned_data["team"]))
        for membership in self.memberships:
            new = self.cleaned_data[self.member_field(membership)]
            if new != membership.monthly_budget:
                changed.append((membership, new))
        return changed


# How far ahead a token's expiry may be set.
TOKEN_MAX_YEARS = 5


class TokenForm(forms.Form):
    """A new personal token: its name, the last day it works (optional) and a monthly cap (optional)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=PersonalToken._meta.get_field("name").max_length,
        help_text=_("What will use it, such as “nightly renders” or “Ada's notebook”."),
    )
    expires_on = forms.DateField(
        label=_("Last day it works"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("It stops working at midnight after this day. Leave it blank for a token that does not expire."),
    )
    monthly_cap = BudgetField(
        label=_("Monthly credit cap"),
        help_text=_("The most its generations may use in a month, on top of your and the team's budgets."),
    )

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if day is not None and day < today:
            raise ValidationError(_("Choose today or a later day (or leave it blank)."))
        if day is not None and day > today + timedelta(days=365 * TOKEN_MAX_YEARS):
            raise ValidationError(
                _("Choose a day within the next %(years)d years (or leave it blank)."), params={"years": TOKEN_MAX_YEARS}
            )
        return day

    @property
    def expires_at(self):
        """The moment the token stops: midnight after its last day, in the deployment's time zone."""
        day = self.cleaned_data["expires_on"]
        return None if day is None else timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
