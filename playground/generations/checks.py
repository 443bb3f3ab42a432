import os
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register

from playground.evolink.contract import is_internal_host


@register()
def public_base_url(app_configs, **kwargs):
    """Callbacks need an HTTPS address the service can reach; say so when it cannot."""
    url = settings.PUBLIC_BASE_URL
    if not url:
        return []
    if not url.startswith("https://"):
        return [
            Warning(
                "PUBLIC_BASE_URL is not an https:// address, so tasks are sent without a callback URL.",
                hint="The service calls back only over HTTPS; polling alone follows the tasks.",
                id="playground.W001",
            )
        ]
    host = urlsplit(url).hostname or ""
    if is_internal_host(host):
        return [
            Warning(
                f"PUBLIC_BASE_URL points at an internal address ({host}); the service will refuse it as a callback.",
                id="playground.W002",
            )
        ]
    return []


@register()
def shared_secrets(app_configs, **kwargs):
    """Machines sharing one database must share its secrets too, or each makes its own."""
    if not settings.DATABASE_URL:
        return []
    missing = [name for name in ("SECRET_KEY", "ENCRYPTION_KEYS") if not os.environ.get(name)]
    if not missing:
        return []
    return [
        Warning(
            f"DATABASE_URL is set but {' and '.join(missing)} {'are' if len(missing) > 1 else 'is'} not: "
            "this machine uses keys of its own from its data directory.",
            hint="Give every web, worker and tracker machine the same value, or sessions and the teams' "
            "stored API keys work on one machine only.",
            id="playground.W003",
        )
    ]
