"""The EvoLink account a team's work goes through, and a client for it."""

import json
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from playground import outbound
from playground.evolink.addresses import client_can_use
from playground.evolink.client import EvoLinkClient
from playground.evolink.errors import AddressUnusable, EvoLinkError

from . import encryption

POLL_TIMEOUT = 10.0


class NoAccount(EvoLinkError):
    default_message = _(
        "This team has no EvoLink key yet. An owner can set one on the Key page, or an operator can "
        "let the team use the deployment's key."
    )


class KeyUnreadable(EvoLinkError):
    default_message = _("The team's API key can no longer be read. An owner must enter it again on the Key page.")


@dataclass(frozen=True)
class Account:
    base_url: str
    files_base_url: str
    # "team": the team's own key; "deployment": EVOLINK_API_KEY; "sandbox": the built-in one;
    # "none": no key, and no sandbox running on this deployment.
    source: str
    api_key: str = field(default="", repr=False)

    @property
    def is_sandbox(self):
        return self.base_url.rstrip("/") == settings.SANDBOX_URL.rstrip("/")

    def sealed(self):
        """This account, encrypted, to keep with the tasks sent through it. Only a team's own
        key is kept; the deployment's and the sandbox's stay in settings, where they rotate."""
        kept = asdict(self) if self.source == "team" else {**asdict(self), "api_key": ""}
        return encryption.encrypt(json.dumps(kept))

    @classmethod
    def unsealed(cls, token):
        account = cls(**json.loads(_decrypt(token)))
        if account.source == "team":
            return account
        return replace(account, api_key=settings_key(account.source))


@sensitive_variables("api_key")
def account_for(team, *, with_key=True):
    """The team's own key (and base URLs) if set; else the deployment's key, for the teams an
    operator allowed to use it; else the built-in sandbox. `with_key=False` leaves the key out,
    for callers that only show where requests go."""
    if team.api_key_encrypted:
        base_url = team.api_base_url or settings.EVOLINK_BASE_URL
        files_base_url = team.files_base_url or team.api_base_url or settings.EVOLINK_FILES_BASE_URL
        api_key = _decrypt(team.api_key_encrypted) if with_key else ""
        return Account(base_url, files_base_url, "team", api_key)
    if settings.EVOLINK_API_KEY and team.may_use_deployment_key:
        source, base_url, files_base_url = "deployment", settings.EVOLINK_BASE_URL, settings.EVOLINK_FILES_BASE_URL
    elif settings.USE_SANDBOX:
        source, base_url, files_base_url = "sandbox", settings.SANDBOX_URL, settings.SANDBOX_URL
    else:
        return Account("", "", "none")
    return Account(base_url, files_base_url, source, settings_key(source) if with_key else "")


def settings_key(source):
    return settings.EVOLINK_API_KEY if source == "deployment" else settings.SANDBOX_API_KEY


def _decrypt(token):
    try:
        return encryption.decrypt(token)
    except encryption.UnreadableSecret:
        raise KeyUnreadable(code="key_unreadable") from None


def client_for(team, *, polling=False):
    return client_from(account_for(team), polling=polling)


def client_from(account, *, polling=False):
    """A client for the account.

    Polls make one short attempt and never sleep in the client: the tracker asks again
    on its next pass (honouring Retry-After), and a poll must end well inside its lease.
    """
    if account.source == "none":
        raise NoAccount(code="no_account")
    if not (client_can_use(account.base_url) and client_can_use(account.files_base_url)):
        raise AddressUnusable(code=AddressUnusable.CODE)  # permanent: retrying cannot help
    return _shared_client(
        account.base_url,
        account.files_base_url,
        account.api_key,
        min(POLL_TIMEOUT, settings.EVOLINK_TIMEOUT) if polling else settings.EVOLINK_TIMEOUT,
        0 if polling else settings.EVOLINK_MAX_RETRIES,
        trusted=configured_origins(),
    )


def configured_origins():
    """The addresses the operator configured, reached as they are (even inside the network):
    EVOLINK_BASE_URL, EVOLINK_FILES_BASE_URL, and SANDBOX_URL while the deployment uses its
    sandbox (USE_SANDBOX; otherwise nothing of the operator's listens there, whoever may).
    A team's own base URL is guarded: https to public addresses only, checked when connecting."""
    sandbox = [settings.SANDBOX_URL] if sandbox_in_use() else []
    return tuple(sorted({*sandbox, settings.EVOLINK_BASE_URL, settings.EVOLINK_FILES_BASE_URL}))


def sandbox_in_use():
    """True when the deployment runs the built-in sandbox, so its address is the operator's."""
    return bool(settings.USE_SANDBOX and settings.SANDBOX_URL)


@lru_cache(maxsize=128)
@sensitive_variables("api_key")
def _shared_client(base_url, files_base_url, api_key, timeout, max_retries, trusted=()):
    # One client per upstream, shared by all threads: it keeps connections open, and
    # building one costs ~30 ms (TLS set-up), which would cap a tracker at ~30 polls/s.
    return EvoLinkClient(
        base_url,
        api_key,
        files_base_url=files_base_url,
        timeout=timeout,
        max_retries=max_retries,
        transport=outbound.GuardedTransport(trusted=trusted),
    )
