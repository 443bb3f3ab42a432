"""The team's EvoLink key and the base URLs it is sent to: setting, replacing and removing them.

Each change logs its audit event, which never holds the key (only its last four characters).
The owners' key page and the operators' admin call these alike.
"""

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from . import audit

Action = audit.Action
URL_FIELDS = ("api_base_url", "files_base_url")


@sensitive_variables("api_key")
@transaction.atomic
def set_key(team, by, api_key):
    """Store `api_key` (encrypted) as the team's key, replacing any other."""
    team.set_api_key(api_key)
    team.save(update_fields=["api_key_encrypted", "api_key_last4"])
    audit.record(team, by, Action.KEY_SET, last4=team.api_key_last4)


@transaction.atomic
def remove_key(team, by):
    """Forget the team's key; False when it had none."""
    if not team.has_api_key:
        return False
    team.set_api_key("")
    team.save(update_fields=["api_key_encrypted", "api_key_last4"])
    audit.record(team, by, Action.KEY_REMOVED)
    return True


@transaction.atomic
def set_base_urls(team, by, api_base_url, files_base_url):
    """Send the team's requests (and key) to these addresses; False when they are the ones in use."""
    urls = {"api_base_url": api_base_url, "files_base_url": files_base_url}
    if urls == {name: getattr(team, name) for name in URL_FIELDS}:
        return False
    team.api_base_url, team.files_base_url = api_base_url, files_base_url
    team.save(update_fields=list(URL_FIELDS))
    audit.record(team, by, Action.UPSTREAM_CHANGED, **urls)
    return True


@sensitive_variables("api_key")
@transaction.atomic
def save_account(team, by, api_key, api_base_url, files_base_url):
    """Replace the key when one is given (blank keeps it), and set the base URLs.

    Returns (whether a key was set, whether the base URLs changed).
    """
    if api_key:
        set_key(team, by, api_key)
    return bool(api_key), set_base_urls(team, by, api_base_url, files_base_url)
