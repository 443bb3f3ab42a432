"""The environment that starts one of the app's own commands (a tracker, a queue cluster)
on the database, storage and sandbox this process is using: for the bench and the tests,
whose database, storage and sandbox are scratch ones the settings do not name."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from playground.generations.bucket import in_bucket


def child_env(sandbox, **extra):
    env = {
        **os.environ,
        "EVOLINK_API_KEY": "",
        "USE_SANDBOX": "1",  # its address is the operator's only while the sandbox is in use
        "SANDBOX_URL": sandbox.url,
        "SANDBOX_API_KEY": sandbox.api_key,
        # Static files as this process serves them: the tests collect none.
        "COLLECTED_STATIC": "1" if settings.COLLECTED_STATIC else "0",
    }
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = str(name)
    else:
        env["DATABASE_URL"] = urlsplit(settings.DATABASE_URL)._replace(path=f"/{name}").geturl()
    if in_bucket():
        env["S3_PREFIX"] = settings.STORAGES["default"]["OPTIONS"].get("location", "")
    else:
        env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env.update({key: str(value) for key, value in extra.items()})
    return env
