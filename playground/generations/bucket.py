"""Whether the files live in an S3 bucket (the scale setup), which can sign links to them."""

import sys

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

