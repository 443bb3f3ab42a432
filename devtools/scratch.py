"""Scratch places in the S3 bucket, for the bench and the tests."""

from django.conf import settings


def storages_in(folder):
    """settings.STORAGES with the bucket's files kept in `folder` inside their own location:
    a scratch place for the bench and the tests."""
    default = settings.STORAGES["default"]
    location = "/".join(filter(None, [default["OPTIONS"].get("location", "").strip("/"), folder]))
    return {**settings.STORAGES, "default": {**default, "OPTIONS": {**default["OPTIONS"], "location": location}}}


def empty(storage):
    """Delete every object in the storage's own location."""
    storage.bucket.objects.filter(Prefix=f"{storage.location}/").delete()
