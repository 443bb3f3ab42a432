"""Whether the files live in an S3 bucket (the scale setup), which can sign links to them."""

import sys

from django.conf import settings
from django.core.files.storage import default_storage


def in_bucket():
    backend = default_storage.__class__  # sets the storage up, which imports its backend
    s3 = sys.modules.get("storages.backends.s3")  # not imported at all without boto3
    return s3 is not None and issubclass(backend, s3.S3Storage)


def storage_errors():
    """What the storage raises while it is briefly unreachable (a full disk, an S3 outage):
    worth another try later, not the end of a generation."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # no S3 client installed: local files only
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def storages_in(folder):
    """settings.STORAGES with the bucket's files kept in `folder` inside their own location:
    a scratch place for the bench and the tests."""
    default = settings.STORAGES["default"]
    location = "/".join(filter(None, [default["OPTIONS"].get("location", "").strip("/"), folder]))
    return {**settings.STORAGES, "default": {**default, "OPTIONS": {**default["OPTIONS"], "location": location}}}


def empty(storage):
    """Delete every object in the storage's own location."""
    storage.bucket.objects.filter(Prefix=f"{storage.location}/").delete()
