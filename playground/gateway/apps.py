from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "playground.gateway"
    verbose_name = _("EvoLink-compatible API")

    def ready(self):
        from . import callbacks  # noqa: F401 - delivers a task's callback when its generation ends
