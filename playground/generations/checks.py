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
