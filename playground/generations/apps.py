from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenerationsConfig(AppConfig):
    name = "playground.generations"
    verbose_name = _("Generations")

    def ready(self):
        # The system checks, and the credit totals' receivers for deleted accounts and tokens.
        from . import checks, totals  # noqa: F401
