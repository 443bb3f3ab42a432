"""The scale setup's bucket: where images land, how members get them, and how references
reach the service. Runs against an S3 server of its own (moto), whatever the environment."""

import io
import runpy
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image, ImageChops

import playground.settings
from playground.generations.models import Generation, Reference, Status
from playground.sandbox.process import start_sandbox

from .conftest import drive, make_generation
from .images import image_bytes, mask_upload, upload

# Committed for real, as in production: the queue's jobs start from on_commit hooks, which a
# test left inside one transaction would never run (the tracker would pick the rows up late).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

PREFIX = "media"
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
BOX = (600, 600, 900, 900)


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def reaching_sandbox(tmp_path_factory):
    """A sandbox that may fetch from loopback, where this test's bucket is."""
    env = {"SANDBOX_TASK_SECONDS": "1", "SANDBOX_ALLOW_PRIVATE_URLS": "1"}
    with start_sandbox(tmp_path_factory.mktemp("reaching-sandbox"), env=env) as process:
        yield process


class Bucket:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.name = f"playground-{uuid.uuid4().hex[:12]}"
        self.s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test-access-key",
            aws_secret_access_key="test-secret-key",
        )
        self.s3.create_bucket(Bucket=self.name)

    def read(self, name):
        return self.s3.get_object(Bucket=self.name, Key=f"{PREFIX}/{name}")["Body"].read()

    def keys(self):
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])]


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket that the app's default storage writes to, as settings.py sets it up."""
    bucket = Bucket(s3_endpoint)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket.name,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "test-access-key",
                "secret_key": "test-secret-key",
                "location": PREFIX,
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": True,
                "signature_version": "s3v4",
            },
        },
    }
    settings.S3_SERVE = "proxy"
    settings.S3_URL_SECONDS = 300
    settings.S3_REFERENCE_URLS = False
    return bucket


@pytest.fixture
def completed(bucket, team, owner):
    return drive(make_generation(team, owner, prompt="ein grünes Fahrrad", size="3:2", n=2))


def image_url(image, variant="full"):
    return reverse("studio:image", args=[image.public_id, variant])


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def add_reference(client, **kwargs):
    response = client.post(
        reverse("studio:references"), {"images": [upload("photo.png", **kwargs)]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    return Reference.objects.get(kind=Reference.Kind.IMAGE)


def test_a_generation_stores_its_images_in_the_bucket(completed, bucket):
    assert completed.status == Status.COMPLETED
    images = list(completed.images.order_by("index"))
    assert len(images) == 2
    for image in images:
        base = f"generations/{completed.team_id}/{completed.public_id}/{image.index}"
        assert image.file.name == f"{base}.png"
        picture = Image.open(io.BytesIO(bucket.read(image.file.name)))
        assert (picture.format, picture.size) == ("PNG", (1536, 1024))
        assert (image.width, image.height) == (1536, 1024)
        thumbnail = Image.open(io.BytesIO(bucket.read(image.thumbnail.name)))
        assert thumbnail.format == "WEBP" and max(thumbnail.size) == 512
    assert sorted(bucket.keys()) == sorted(
        f"{PREFIX}/{name}" for image in images for name in (image.file.name, image.thumbnail.name)
    )


def test_nothing_in_the_bucket_is_readable_by_anyone_but_its_owner(completed, bucket, owner_client):
    add_reference(owner_client)
    keys = bucket.keys()
    assert any("/references/" in key for key in keys) and any("/generations/" in key for key in keys)
    for key in keys:
        grants = bucket.s3.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
        assert grants, key
        assert not [grant for grant in grants if grant["Grantee"].get("URI") in PUBLIC_GRANTEES], key


def test_proxied_images_are_the_stored_bytes(completed, bucket, owner_client):
    image = completed.images.get(index=0)
    for variant, name, content_type in (
        ("full", image.file.name, "image/png"),
        ("thumb", image.thumbnail.name, "image/webp"),
    ):
        response = owner_client.get(image_url(image, variant))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert b"".join(response.streaming_content) == bucket.read(name)
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")
    assert "gr%C3%BCnes-fahrrad-1.webp" in response["Content-Disposition"]


def page_policy(client, bucket, monkeypatch, settings):
    """The playground page's CSP, with settings.py read again for this bucket in signed mode."""
    for name, value in {"S3_BUCKET": bucket.name, "S3_ENDPOINT_URL": bucket.endpoint, "S3_SERVE": "signed"}.items():
        monkeypatch.setenv(name, value)
    for name in ("S3_PUBLIC_ORIGIN", "S3_ADDRESSING_STYLE"):
        monkeypatch.delenv(name, raising=False)
    settings.SECURE_CSP = runpy.run_path(playground.settings.__file__)["SECURE_CSP"]
    policy = client.get(reverse("studio:playground"))["Content-Security-Policy"]
    return dict(
        (directive.split()[0], directive.split()[1:]) for directive in policy.split(";") if directive.strip()
    )


def test_signed_mode_sends_a_member_to_a_short_lived_link_on_the_bucket(
    completed, bucket, client, teammate, settings, monkeypatch
):
    image = completed.images.get(index=0)
    client.force_login(teammate)
    streamed = client.get(image_url(image))
    settings.S3_SERVE = "signed"
    settings.S3_URL_SECONDS = 120

    response = client.get(image_url(image))
    assert response.status_code == 302
    link = response["Location"]
    assert origin(link) == bucket.endpoint
    assert urlsplit(link).path == f"/{bucket.name}/{PREFIX}/{image.file.name}"
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == ["120"]
    cache = response["Cache-Control"].split(", ")
    assert cache[0] == "private" and 0 < int(cache[1].removeprefix("max-age=")) < 120

    fetched = httpx.get(link)
    assert fetched.status_code == 200
    assert fetched.content == bucket.read(image.file.name)
    assert fetched.headers["Content-Type"] == "image/png"
    # The same name as the streamed file; the prompt's ü stays whole (RFC 6266).
    assert fetched.headers["Content-Disposition"] == streamed["Content-Disposition"]
    assert "gr%C3%BCnes-fahrrad-1.png" in fetched.headers["Content-Disposition"]
    # Unsigned, the object is refused.
    assert httpx.get(link.split("?")[0]).status_code == 403

    thumbnail = client.get(image_url(image, "thumb"))
    assert thumbnail.status_code == 302
    assert httpx.get(thumbnail["Location"]).content == bucket.read(image.thumbnail.name)

    policy = page_policy(client, bucket, monkeypatch, settings)
    assert origin(link) in policy["img-src"]
    assert policy["default-src"] == ["'self'"]


def test_signed_mode_serves_references_the_same_way(bucket, owner_client, settings):
    reference = add_reference(owner_client)
    settings.S3_SERVE = "signed"
    response = owner_client.get(reverse("studio:reference", args=[reference.public_id, "full"]))
    assert response.status_code == 302
    fetched = httpx.get(response["Location"])
    assert fetched.content == bucket.read(reference.file.name) == image_bytes()
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.headers["Content-Disposition"] == f'inline; filename="image-{reference.public_id}.png"'


@pytest.mark.parametrize("mode", ["proxy", "signed"])
def test_only_the_team_gets_an_image_or_a_link_to_it(completed, bucket, client, outsider, settings, mode):
    settings.S3_SERVE = mode
    image = completed.images.get(index=0)
    signed_out = client.get(image_url(image))
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith(reverse("login"))

    client.force_login(outsider)
    for variant in ("full", "thumb"):
        response = client.get(image_url(image, variant))
        assert response.status_code == 404
        assert not response.has_header("Location")
        assert bucket.endpoint.encode() not in response.content and bucket.name.encode() not in response.content


def sandbox_files(sandbox):
    listing = httpx.get(f"{sandbox.url}/api/v1/files/list", headers=sandbox.headers).json()
    return listing["data"]["total"]


def test_references_reach_the_service_as_links_the_bucket_signs(bucket, owner_client, reaching_sandbox, settings):
    settings.SANDBOX_URL, settings.SANDBOX_API_KEY = reaching_sandbox.url, reaching_sandbox.api_key
    settings.S3_REFERENCE_URLS = True
    settings.S3_REFERENCE_URL_SECONDS = 3 * 3600
    reference = add_reference(owner_client)
    uploads_before = sandbox_files(reaching_sandbox)

    fields = {"prompt": "make the corner blue", "size": "1:1", "n": 1, "references": [str(reference.public_id)]}
    response = owner_client.post(reverse("studio:generate"), {**fields, "mask": mask_upload(box=BOX)})
    assert response.status_code == 302
    generation = drive(Generation.objects.get())
    assert generation.status == Status.COMPLETED, generation.error_message

    links = {"reference": generation.image_urls[0], "mask": generation.mask_url}
    names = {"reference": reference.file.name, "mask": generation.mask.file.name}
    for kind, url in links.items():
        link = urlsplit(url)
        assert origin(url) == bucket.endpoint
        assert link.path == f"/{bucket.name}/{PREFIX}/{names[kind]}"
        assert parse_qs(link.query)["X-Amz-Expires"] == [str(3 * 3600)]
    assert sandbox_files(reaching_sandbox) == uploads_before  # the file-hosting API was not used

    # The service worked from the bucket's copy: outside the painted box, its image is the reference.
    result = Image.open(io.BytesIO(bucket.read(generation.images.get().file.name))).convert("RGB")
    original = Image.open(io.BytesIO(image_bytes())).convert("RGB")
    outside = Image.new("L", original.size, 255)
    outside.paste(0, (BOX[0], BOX[1], BOX[2] + 1, BOX[3] + 1))
    assert ImageChops.multiply(ImageChops.difference(result, original).convert("L"), outside).getbbox() is None
    assert ImageChops.difference(result, original).getbbox() is not None

    # Every task gets a link signed for it, and still nothing is uploaded.
    again = drive(generate_with(owner_client, reference))
    assert again.status == Status.COMPLETED
    assert origin(again.image_urls[0]) == bucket.endpoint
    assert sandbox_files(reaching_sandbox) == uploads_before


def generate_with(client, reference):
    known = set(Generation.objects.values_list("pk", flat=True))
    fields = {"prompt": "another take", "size": "1:1", "n": 1, "references": [str(reference.public_id)]}
    assert client.post(reverse("studio:generate"), fields).status_code == 302
    return Generation.objects.exclude(pk__in=known).get()


def test_without_reference_links_the_bucket_copy_is_uploaded_to_file_hosting(
    bucket, owner_client, sandbox, settings
):
    reference = add_reference(owner_client)
    generation = drive(generate_with(owner_client, reference))
    reference.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert len(generation.image_urls) == 1
    assert generation.image_urls[0].startswith(f"{sandbox.url}/files/")
    # Nothing unfinished needs it any more: the hosted file is deleted.
    assert reference.hosted_url == "" and reference.hosted_file_id == ""
    assert httpx.get(generation.image_urls[0]).status_code == 404
