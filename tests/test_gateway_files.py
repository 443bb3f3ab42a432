"""File hosting's endpoints on the gateway: uploads become the team's references, answered
in the vendor's reply shape, and their `file_url` is taken back by a create."""

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from playground.gateway import inputs
from playground.gateway.views import files as files_views
from playground.generations.models import Generation, Mode, Reference

from .conftest import drive
from .finished import finished_generation
from .gateway import Script, issue
from .images import image_bytes, mask_bytes

pytestmark = pytest.mark.django_db

REPLY_FIELDS = {"file_id", "file_name", "original_name", "file_size", "mime_type", "upload_path", "file_url",
                "download_url", "upload_time", "expires_at"}


@pytest.fixture
def script(client, team, teammate):
    return Script(client, issue(team, teammate)[1])


@pytest.fixture
def image_host():
    """A local web server that serves one picture at /cat.png (and slowly at /slow.png), and a 404 elsewhere."""
    picture = image_bytes((80, 60), fmt="PNG")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path in ("/cat.png", "/slow.png")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture) if found else 0))
            self.end_headers()
            if self.path == "/slow.png":  # a little at a time, each part well within a read's timeout
                part = len(picture) // 20 + 1
                for start in range(0, len(picture), part):
                    self.wfile.write(picture[start : start + part])
                    self.wfile.flush()
                    time.sleep(0.1)
            elif found:
                self.wfile.write(picture)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_upload_is_kept_as_a_team_reference_in_the_vendors_reply_shape(script, team, client):
    reply = script.upload(image_bytes((64, 48)), name="sketch.png")
    assert reply.status_code == 200
    body = reply.json()
    assert body["success"] is True and body["code"] == 200
    assert set(body["data"]) == REPLY_FIELDS
    reference = Reference.objects.get(team=team, public_id=body["data"]["file_id"])
    assert (reference.width, reference.height, reference.original_name) == (64, 48, "sketch.png")
    assert body["data"]["mime_type"] == "image/png"
    served = client.get(body["data"]["file_url"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_a_base64_upload_takes_a_data_url_and_its_name(script, team):
    data = "data:image/jpeg;base64," + base64.b64encode(image_bytes((40, 40), fmt="JPEG")).decode()
    reply = script.post("/api/v1/files/upload/base64", {"base64_data": data, "file_name": "shot.jpg"})
    assert reply.status_code == 200, reply.content
    assert reply.json()["data"]["file_name"] == "shot.jpg"
    assert reply.json()["data"]["mime_type"] == "image/jpeg"
    assert Reference.objects.filter(team=team).count() == 1


def test_a_file_that_is_not_an_image_is_refused_with_the_vendors_code(script, team):
    reply = script.upload(b"%PDF-1.4 not an image", name="notes.pdf")
    assert reply.status_code == 400
    assert reply.json()["success"] is False
    assert reply.json()["code"] == 40002
    assert not Reference.objects.exists()


def test_bad_base64_is_a_400(script):
    reply = script.post("/api/v1/files/upload/base64", {"base64_data": "%%%"})
    assert reply.status_code == 400
    assert reply.json()["success"] is False


@pytest.fixture
def written(monkeypatch):
    """The bytes of uploads Django wrote to temporary files (where an upload past 2.5 MB goes)."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    sizes = []
    receive = TemporaryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk",
                        lambda self, data, start: sizes.append(len(data)) or receive(self, data, start))
    return sizes


@pytest.mark.parametrize("declared", [True, False])
def test_an_upload_past_10_mb_is_refused_before_it_is_held_in_full(script, client, written, monkeypatch, declared):
    if not declared:  # as a chunked upload, whose length is not known before it is read
        monkeypatch.setattr(files_views, "MAX_STREAM_BODY", 10**12)
    big = SimpleUploadedFile("huge.png", b"\x89PNG" + b"0" * (25 * 1024 * 1024))
    reply = client.post("/api/v1/files/upload/stream", {"file": big}, headers=script.headers)
    assert reply.status_code == 413
    assert reply.json()["error"]["message"] == "The file is larger than 10 MB."
    assert sum(written) <= 10 * 1024 * 1024
    assert not Reference.objects.exists()


def test_a_url_upload_fetches_the_picture(script, team, image_host, settings):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = True  # the picture is served on this machine
    reply = script.post("/api/v1/files/upload/url", {"file_url": f"{image_host}/cat.png"})
    assert reply.status_code == 200, reply.content
    assert reply.json()["data"]["original_name"] == "cat.png"
    assert Reference.objects.get(team=team).width == 80


def test_a_link_that_drips_its_bytes_is_given_up_at_the_fetchs_deadline(script, image_host, settings, monkeypatch):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = True
    monkeypatch.setattr(inputs, "FETCH_SECONDS", 1)  # the picture takes about 2 s, each part 0.1 s
    reply = script.post("/api/v1/files/upload/url", {"file_url": f"{image_host}/slow.png"})
    assert reply.status_code == 400, reply.content
    assert "could not be downloaded" in reply.json()["error"]["message"]
    assert not Reference.objects.exists()


def test_a_url_upload_never_reaches_an_internal_address(script, image_host):
    reply = script.post("/api/v1/files/upload/url", {"file_url": f"{image_host}/cat.png"})
    assert reply.status_code == 400
    assert reply.json()["code"] == 40004
    assert not Reference.objects.exists()


def test_a_url_that_answers_404_is_a_download_failure(script, image_host, settings):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = True
    reply = script.post("/api/v1/files/upload/url", {"file_url": f"{image_host}/gone.png"})
    assert reply.status_code == 400
    assert reply.json()["code"] == 40004


def test_a_create_takes_an_uploaded_file_and_a_public_link(script, team, image_host, settings):
    settings.GATEWAY_ALLOW_PRIVATE_URLS = True
    file_url = script.upload(image_bytes((64, 64))).json()["data"]["file_url"]
    reply = script.create(image_urls=[file_url, f"{image_host}/cat.png"])
    assert reply.status_code == 200, reply.content
    generation = Generation.objects.get(public_id=reply.json()["id"])
    assert generation.mode == Mode.IMAGE
    assert [(ref.width, ref.height) for ref in generation.ordered_references()] == [(64, 64), (80, 60)]


def test_a_create_can_take_a_result_link_as_a_reference(script, team, teammate):
    earlier = finished_generation(team, teammate)
    link = script.get(f"/v1/tasks/{earlier.public_id}").json()["results"][0]
    reply = script.create(image_urls=[link])
    assert reply.status_code == 200
    reference = Generation.objects.get(public_id=reply.json()["id"]).ordered_references()[0]
    assert reference.sha256 == earlier.images.get().sha256


def test_a_public_link_to_an_internal_address_is_refused(script, image_host):
    reply = script.create(image_urls=[f"{image_host}/cat.png"])
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "image_urls"
    assert not Generation.objects.exists()


def test_a_mask_is_checked_against_its_reference(script):
    file_url = script.upload(image_bytes((64, 64))).json()["data"]["file_url"]
    wrong_size = script.upload(mask_bytes((32, 32), box=(4, 4, 10, 10)), name="mask.png").json()["data"]["file_url"]
    reply = script.create(image_urls=[file_url], mask_url=wrong_size)
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "mask_url"
    assert "size of the reference image" in reply.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
def test_a_masked_edit_runs_through_the_sandbox(script):
    file_url = script.upload(image_bytes((1024, 1024))).json()["data"]["file_url"]
    mask_url = script.upload(mask_bytes(), name="mask.png").json()["data"]["file_url"]
    reply = script.create(image_urls=[file_url], mask_url=mask_url, prompt="a red door")
    assert reply.status_code == 200, reply.content
    generation = drive(Generation.objects.get(public_id=reply.json()["id"]))
    assert generation.mode == Mode.EDIT
    assert script.get(f"/v1/tasks/{generation.public_id}").json()["status"] == "completed"


def test_deleting_an_unused_file_removes_it(script, team, client):
    data = script.upload(image_bytes((64, 64))).json()["data"]
    reply = script.delete(f"/api/v1/files/{data['file_id']}")
    assert reply.status_code == 200
    assert reply.json() == {"success": True, "code": 200, "msg": "File deleted.", "data": {"file_id": data["file_id"]}}
    assert not Reference.objects.exists()
    assert client.get(data["file_url"]).status_code == 404


def test_deleting_a_file_a_generation_used_keeps_it_for_the_history_but_its_link_dies(script, team, client):
    picture = image_bytes((64, 64))
    data = script.upload(picture).json()["data"]
    assert client.head(data["file_url"]).status_code == 200
    script.create(image_urls=[data["file_url"]])
    assert script.delete(f"/api/v1/files/{data['file_id']}").status_code == 200
    assert Reference.objects.filter(public_id=data["file_id"]).exists()
    assert client.get(data["file_url"]).status_code == 404
    assert script.create(image_urls=[data["file_url"]]).status_code == 404
    assert Generation.objects.count() == 1
    # The same picture uploaded again is a live file once more.
    again = script.upload(picture).json()["data"]
    assert client.get(again["file_url"]).status_code == 200


def test_deleting_an_unknown_file_is_a_404(script):
    assert script.delete("/api/v1/files/not-a-file").status_code == 404
