"""What error reports leave out."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    # Django's own list, and the settings whose URLs carry a database's, Redis's or S3's
    # password: DATABASE_URL, REDIS_URL, CACHES, Q_CLUSTER, DATABASES.
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|_URL$|^CACHES$|^Q_CLUSTER$|^DATABASES$", flags=re.I
    )
