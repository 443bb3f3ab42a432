"""What is in the app's storage, on either setup (a folder on disk, or a prefix in S3)."""

from pathlib import Path

from django.core.files.storage import default_storage


def stored_files(folder=""):
    """Every file's name under `folder` in default_storage, sorted; none when it does not exist."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:  # no such folder on disk; S3 answers an empty listing instead
        return []
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    names = [prefix + name for name in files]
    for child in folders:
        names += stored_files(prefix + child)
    return sorted(names)


def generation_files(generation):
    """The files stored for a generation's results: each image and its thumbnail."""
    return stored_files(f"generations/{generation.team_id}/{generation.public_id}")


def read_path(path):
    """The bytes at a path the app printed: a local file, or s3://bucket/key on the scale setup."""
    if not path.startswith("s3://"):
        return Path(path).read_bytes()
    bucket, key = path.removeprefix("s3://").split("/", 1)
    assert bucket == default_storage.bucket_name
    return default_storage.bucket.Object(key).get()["Body"].read()
