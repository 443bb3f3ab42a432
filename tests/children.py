"""The environment for the app's own processes (trackers, queue workers) that a test starts:
the same database, storage and sandbox as the test itself, on either setup."""

import os
from urllib.parse import quote

from django.conf import settings


def database_url():
    db = settings.DATABASES["default"]
    credentials = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}@" if db.get("USER") else ""
    return f"postgres://{credentials}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def child_env(sandbox, **extra):
    env = {
        **os.environ,
        "EVOLINK_API_KEY": "",
        "SANDBOX_URL": sandbox.url,
        "SANDBOX_API_KEY": sandbox.api_key,
    }
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(settings.DATABASES["default"]["NAME"])
    else:
        env["DATABASE_URL"] = database_url()
    storage = settings.STORAGES["default"]
    if storage["BACKEND"].endswith("S3Storage"):
        env["S3_PREFIX"] = storage["OPTIONS"].get("location", "")
    else:
        env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env.update({name: str(value) for name, value in extra.items()})
    return env
