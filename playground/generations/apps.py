from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenerationsConfig(AppConfig):
    name = "playground.generations"
    verbose_name = _("Generations")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
