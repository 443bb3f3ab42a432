"""The EvoLink sandbox, over real HTTP, as a api of the contract sees it.

Runs without the main app's settings:
    python -m pytest tests/test_sandbox.py -p no:django -q
"""

import base64
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from PIL import Image

from playground.evolink.contract import FINISHED_STATUSES
from playground.sandbox.errors import FAILURE_MESSAGES
from playground.sandbox.process import PROJECT_ROOT, SandboxError, start_sandbox

PIXELS = {
    "1:1": (1024, 1024),
    "1024x1024": (1024, 1024),
    "2:3": (1024, 1536),
    "1024x1536": (1024, 1536),
    "3:2": (1536, 1024),
    "1536x1024": (1536, 1024),
}
INSTANT = " [sandbox:seconds=0]"

pytestmark = pytest.mark.processes  # the sandboxes here are processes of this module's own


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    env = {"SANDBOX_TASK_SECONDS": "1", "SANDBOX_ALLOW_PRIVATE_URLS": ""}
    with start_sandbox(tmp_path_factory.mktemp("sandbox"), env=env) as running:
        yield running


@pytest.fixture
def api(sandbox):
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as http:
        yield http
        http.delete("/_sandbox/faults")


@pytest.fixture(scope="module")
def local_sandbox(tmp_path_factory):
    """A sandbox allowed to reach loopback addresses, for callbacks and URL uploads."""
    env = {"SANDBOX_TASK_SECONDS": "0.5", "SANDBOX_ALLOW_PRIVATE_URLS": "1"}
    with start_sandbox(tmp_path_factory.mktemp("local-sandbox"), env=env) as running:
        yield running


@pytest.fixture
def local_api(local_sandbox):
    with httpx.Client(
        base_url=local_sandbox.url, headers=local_sandbox.headers, timeout=10
    ) as http:
        yield http


@pytest.fixture
def receiver():
    """A loopback HTTP server recording what it is sent; it answers from `statuses` in turn."""
    received = []
    statuses = []
    png = png_bytes((64, 48), "orange")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((time.monotonic(), json.loads(body)))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received, statuses
    server.shutdown()
    server.server_close()


def png_bytes(size, colour, mode="RGB"):
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def create(api, prompt="A lighthouse at dusk", **fields):
    return api.post(
        "/v1/images/generations", json={"model": "gpt-4o-image", "prompt": prompt, **fields}
    )


def wait_until_done(api, task_id, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in FINISHED_STATUSES:
            return task
        time.sleep(0.05)
    raise AssertionError(f"{task_id} did not finish in {timeout} s")


def finished_task(api, prompt="A lighthouse at dusk", **fields):
    response = create(api, prompt + INSTANT, **fields)
    assert response.status_code == 200, response.text
    return wait_until_done(api, response.json()["id"])


def download(url):
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response


def upload(api, data, name="picture.png"):
    return api.post(
        "/api/v1/files/upload/stream", files={"file": (name, data, "application/octet-stream")}
    )


def assert_contract_error(response, status, code=None, param=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and error["type"]
    if code:
        assert error["code"] == code
    if param:
        assert error["param"] == param
    return error


# Authentication and routing


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "sandbox-key"])
def test_a_call_without_the_right_bearer_key_is_refused_with_401(sandbox, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in [
        ("GET", "/v1/credits"),
        ("POST", "/v1/images/generations"),
        ("GET", "/api/v1/files/quota"),
        ("GET", "/_sandbox/faults"),
    ]:
        response = httpx.request(method, sandbox.url + path, headers=headers)
        error = assert_contract_error(response, 401, "invalid_api_key")
        assert error["type"] == "authentication_error"
        assert "sandbox-key" not in response.text


def test_an_unknown_path_and_a_wrong_method_answer_in_the_contract_error_format(api):
    assert_contract_error(api.get("/v1/nothing-here"), 404)
    response = api.delete("/v1/credits")
    assert_contract_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"


# Validation


def test_a_body_that_is_not_json_is_refused_with_400(api):
    response = api.post(
        "/v1/images/generations", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_contract_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "fields, param, message",
    [
        ({"model": None}, "model", "model is required"),
        ({"model": "dall-e-3"}, "model", 'model must be "gpt-4o-image"'),
        ({"prompt": None}, "prompt", "prompt is required"),
        ({"prompt": "   "}, "prompt", "prompt must not be empty"),
        ({"prompt": "x" * 2001}, "prompt", "at most 2000 characters"),
        ({"prompt": 42}, "prompt", "prompt must be a string"),
        ({"prompt": "a cat [sandbox:explode=1]"}, "prompt", "directive"),
        ({"size": "512x512"}, "size", "size must be one of 1:1, 2:3, 3:2"),
        ({"n": 3}, "n", "n must be 1, 2 or 4"),
        ({"n": "2"}, "n", "n must be 1, 2 or 4"),
        ({"image_urls": "https://example.com/a.png"}, "image_urls", "must be a list"),
        (
            {"image_urls": [f"https://example.com/{i}.png" for i in range(6)]},
            "image_urls",
            "at most 5 images",
        ),
        ({"image_urls": ["ftp://example.com/a.png"]}, "image_urls", "http or https URL"),
        (
            {
                "mask_url": "https://example.com/m.png",
                "image_urls": ["https://example.com/1.png", "https://example.com/2.png"],
            },
            "mask_url",
            "more than one image",
        ),
        ({"callback_url": "http://example.com/hook"}, "callback_url", "HTTPS URL"),
        ({"callback_url": "https://127.0.0.1/hook"}, "callback_url", "internal address"),
        ({"callback_url": "https://10.1.2.3/hook"}, "callback_url", "internal address"),
        ({"callback_url": "https://[::ffff:192.168.0.1]/hook"}, "callback_url", "internal address"),
        ({"callback_url": "https://localhost/hook"}, "callback_url", "internal address"),
        (
            {"callback_url": "https://example.com/" + "a" * 2048},
            "callback_url",
            "at most 2048 characters",
        ),
    ],
)
def test_each_invalid_field_is_refused_with_400_naming_the_field(api, fields, param, message):
    body = {"model": "gpt-4o-image", "prompt": "A lighthouse", **fields}
    body = {name: value for name, value in body.items() if value is not None}
    error = assert_contract_error(api.post("/v1/images/generations", json=body), 400, param=param)
    assert error["type"] == "invalid_request_error"
    assert message in error["message"]


def test_a_rejected_request_reserves_no_credit(api):
    before = api.get("/v1/credits").json()["data"]["user"]["used_credits"]
    assert create(api, n=3).status_code == 400
    assert api.get("/v1/credits").json()["data"]["user"]["used_credits"] == before


def test_unknown_extra_fields_are_ignored(api):
    assert create(api, style="vivid", quality="hd").status_code == 200


# Task life


def test_a_created_task_is_answered_in_the_documented_shape(api):
    response = create(api, n=2)
    assert response.status_code == 200
    task = response.json()
    assert re.fullmatch(r"task-unified-\d{10}-[a-z0-9]{8}", task["id"])
    assert task["created"] == int(task["id"].split("-")[2])
    assert {key: task[key] for key in task if key not in ("id", "created")} == {
        "model": "gpt-4o-image",
        "object": "image.generation.task",
        "progress": 0,
        "status": "pending",
        "task_info": {"can_cancel": True, "estimated_time": 1},
        "type": "image",
        "usage": {"billing_rule": "per_call", "credits_reserved": 3.0, "user_group": "default"},
    }


def test_a_task_goes_from_pending_through_processing_to_completed_with_rising_progress(api):
    task_id = create(api, "A lighthouse [sandbox:seconds=4]").json()["id"]
    seen = []
    while not seen or seen[-1][0] != "completed":
        task = api.get(f"/v1/tasks/{task_id}").json()
        seen.append((task["status"], task["progress"]))
        time.sleep(0.04)
    statuses = [status for status, _ in seen]
    progress = [value for _, value in seen]
    assert statuses[0] == "pending" and progress[0] == 0
    assert statuses.index("processing") < statuses.index("completed")
    assert all(1 <= value <= 99 for status, value in seen if status == "processing")
    assert len({value for status, value in seen if status == "processing"}) > 3
    assert progress == sorted(progress) and progress[-1] == 100
    assert task["task_info"] == {"can_cancel": False}
    assert task["result_data"] == [{"image_url": task["results"][0]}]


def test_an_unknown_task_is_answered_with_404(api):
    assert_contract_error(api.get("/v1/tasks/task-unified-1757165031-zzzzzzzz"), 404)
    assert_contract_error(api.get("/v1/tasks/..%2F..%2Fsecret"), 404)


@pytest.mark.parametrize(
    "size, n",
    [("1:1", 1), ("1024x1024", 2), ("2:3", 1), ("1024x1536", 1), ("3:2", 1), ("1536x1024", 4)],
)
def test_a_completed_task_returns_n_images_of_the_requested_size(api, size, n):
    task = finished_task(api, f"Poster {size}", size=size, n=n)
    assert task["status"] == "completed" and len(task["results"]) == n
    pictures = set()
    for url in task["results"]:
        response = download(url)
        assert response.headers["Content-Type"] == "image/png"
        assert int(response.headers["Content-Length"]) == len(response.content)
        image = Image.open(io.BytesIO(response.content))
        assert (image.format, image.size) == ("PNG", PIXELS[size])
        pictures.add(response.content)
    assert len(pictures) == n, "each index looks different"


def test_result_urls_are_the_same_on_every_query_and_the_images_too(api):
    task = finished_task(api, n=2)
    again = api.get(f"/v1/tasks/{task['id']}").json()
    assert again["results"] == task["results"]
    assert download(task["results"][1]).content == download(again["results"][1]).content


def test_a_result_link_with_a_wrong_signature_is_refused_with_403(api):
    url = finished_task(api)["results"][0]
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert_contract_error(httpx.get(tampered), 403, "invalid_signature")
    assert_contract_error(httpx.get(url.replace("expires=", "expires=9")), 403, "invalid_signature")
    assert_contract_error(httpx.get(url.split("?")[0]), 403)


def test_an_expired_result_link_is_refused_with_403(api):
    assert api.post("/_sandbox/faults", json={"link_ttl": 0}).status_code == 200
    url = finished_task(api)["results"][0]
    expires = int(re.search(r"expires=(\d+)", url).group(1))
    time.sleep(max(0, expires + 1.05 - time.time()))
    assert "expired" in assert_contract_error(httpx.get(url), 403, "link_expired")["message"]


@pytest.mark.parametrize("code", sorted(FAILURE_MESSAGES))
def test_a_fail_directive_ends_the_task_failed_with_that_code(api, code):
    task = finished_task(api, f"A cat [sandbox:fail={code}]")
    assert task["status"] == "failed"
    assert task["error"]["code"] == code and task["error"]["message"] and task["error"]["type"]
    assert "results" not in task


def test_a_produce_directive_delivers_fewer_images_than_asked(api):
    task = finished_task(api, "Four cats [sandbox:produce=2]", n=4)
    assert len(task["results"]) == 2
    assert task["usage"]["credits_reserved"] == 6.0


def test_producing_no_image_fails_with_no_content(api):
    task = finished_task(api, "Nothing [sandbox:produce=0]", n=2)
    assert task["error"]["code"] == "generation_failed_no_content"


def test_credits_come_in_the_documented_shape_and_fall_with_each_reservation(api):
    before = api.get("/v1/credits").json()
    assert before["success"] is True and before["message"] == ""
    assert before["data"]["token"]["unlimited_credits"] is False
    create(api, n=4)
    after = api.get("/v1/credits").json()["data"]["user"]
    assert after["used_credits"] == pytest.approx(before["data"]["user"]["used_credits"] + 6.0)
    assert after["remaining_credits"] == pytest.approx(
        before["data"]["user"]["remaining_credits"] - 6.0
    )


# Faults


def test_a_429_fault_answers_with_retry_after_then_the_service_recovers(api):
    api.post("/_sandbox/faults", json={"error_status": 429, "error_count": 2, "retry_after": 3})
    for _ in range(2):
        response = api.get("/v1/credits")
        assert_contract_error(response, 429, "rate_limit_exceeded")
        assert response.headers["Retry-After"] == "3"
    assert api.get("/v1/credits").status_code == 200
    assert api.get("/_sandbox/faults").json()["error_count"] == 0


def test_a_503_fault_reaches_task_creation_too(api):
    api.post("/_sandbox/faults", json={"error_status": 503, "error_count": 1})
    assert_contract_error(create(api), 503)
    assert create(api).status_code == 200


def test_a_non_json_fault_answers_an_html_page_with_502(api):
    api.post("/_sandbox/faults", json={"non_json_count": 1})
    response = api.get("/v1/credits")
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    assert api.get("/v1/credits").status_code == 200


def test_a_slow_fault_delays_each_reply(api):
    api.post("/_sandbox/faults", json={"slow_seconds": 0.4})
    started = time.monotonic()
    assert api.get("/v1/credits").status_code == 200
    assert time.monotonic() - started >= 0.4


def test_a_drop_fault_cuts_the_reply_off_mid_body_and_the_record_says_so(api):
    api.delete("/_sandbox/calls")
    api.post("/_sandbox/faults", json={"drop_count": 1})
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
        api.get("/v1/credits")
    assert api.get("/v1/credits").status_code == 200
    served = [call for call in api.get("/_sandbox/calls").json()["calls"] if call["path"] == "/v1/credits"]
    assert [call["dropped"] for call in served] == [True, False]


def test_result_downloads_can_be_slowed_and_cut_off_mid_body(api):
    link = wait_until_done(api, create(api).json()["id"])["results"][0]
    api.post("/_sandbox/faults", json={"download_drop_count": 1, "download_seconds": 0.4})
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(link, timeout=10)
    assert time.monotonic() - started >= 0.4
    image = httpx.get(link, timeout=10)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert api.get("/_sandbox/faults").json()["download_drop_count"] == 0


def test_fault_switches_for_task_failure_and_duration_apply_to_new_tasks(api):
    api.post("/_sandbox/faults", json={"fail_code": "quota_exceeded", "task_seconds": 0})
    task = wait_until_done(api, create(api).json()["id"], timeout=2)
    assert task["error"]["code"] == "quota_exceeded"
    api.delete("/_sandbox/faults")
    assert api.get("/_sandbox/faults").json() == {}


@pytest.mark.parametrize(
    "switches, param",
    [
        ({"error_status": 418}, "error_status"),
        ({"fail_code": "oops"}, "fail_code"),
        ({"banana": 1}, "banana"),
    ],
)
def test_a_bad_fault_switch_is_refused_with_400(api, switches, param):
    assert_contract_error(api.post("/_sandbox/faults", json=switches), 400, param=param)


# File hosting


def test_an_uploaded_file_is_served_listed_counted_and_deleted(api):
    data = png_bytes((300, 200), "teal")
    response = upload(api, data, "../../etc/My Photo.png")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["code"] == 200
    file = body["data"]
    assert set(file) == {
        "file_id",
        "file_name",
        "original_name",
        "file_size",
        "mime_type",
        "upload_path",
        "file_url",
        "download_url",
        "upload_time",
        "expires_at",
    }
    assert (file["original_name"], file["file_size"], file["mime_type"]) == (
        "My Photo.png",
        len(data),
        "image/png",
    )
    assert file["file_url"].endswith(".png") and "My Photo" not in file["file_url"]

    served = download(file["file_url"])
    assert served.content == data and served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert download(file["download_url"]).headers["Content-Disposition"].startswith("attachment")

    quota = api.get("/api/v1/files/quota").json()["data"]
    assert quota["max_files"] == 100 and quota["used_files"] + quota["remain_files"] == 100
    listed = api.get("/api/v1/files/list", params={"page": 1, "pageSize": 100}).json()["data"]
    assert file["file_id"] in [item["file_id"] for item in listed["files"]]

    assert api.delete(f"/api/v1/files/{file['file_id']}").json()["success"] is True
    assert httpx.get(file["file_url"]).status_code == 404
    assert api.get("/api/v1/files/quota").json()["data"]["used_files"] == quota["used_files"] - 1
    gone = api.delete(f"/api/v1/files/{file['file_id']}")
    assert gone.status_code == 404 and gone.json()["success"] is False


def test_a_base64_upload_accepts_a_data_url_and_keeps_the_image_type(api):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "JPEG")
    encoded = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
    file = api.post(
        "/api/v1/files/upload/base64", json={"base64_data": encoded, "file_name": "red.jpg"}
    ).json()["data"]
    assert file["mime_type"] == "image/jpeg" and file["file_url"].endswith(".jpg")
    assert download(file["file_url"]).content == out.getvalue()


def test_a_text_file_renamed_to_png_is_refused(api):
    response = upload(api, b"just some text, honestly", "photo.png")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["code"] == 400 and "JPEG, PNG, WEBP" in body["msg"]
    assert body["error"]["param"] == "file"


def test_bad_base64_and_a_missing_file_are_refused(api):
    assert (
        api.post("/api/v1/files/upload/base64", json={"base64_data": "@@@"}).json()["success"]
        is False
    )
    assert api.post("/api/v1/files/upload/stream", data={"other": "x"}).status_code == 400


def test_a_url_upload_of_a_private_address_is_refused_by_default(api):
    response = api.post("/api/v1/files/upload/url", json={"file_url": "http://127.0.0.1:9/cat.png"})
    assert response.status_code == 400 and response.json()["success"] is False


def test_a_url_upload_fetches_the_image(local_api, receiver):
    url, _, _ = receiver
    response = local_api.post(
        "/api/v1/files/upload/url", json={"file_url": f"{url}/cats/tabby.png"}
    )
    assert response.status_code == 200, response.text
    file = response.json()["data"]
    assert (file["original_name"], file["mime_type"]) == ("tabby.png", "image/png")


# Image-to-image and masks


def test_an_edit_with_a_mask_changes_only_the_transparent_region(api):
    reference = Image.linear_gradient("L").resize((1024, 1024)).convert("RGB")
    out = io.BytesIO()
    reference.save(out, "PNG")
    mask = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (256, 256, 768, 768))
    mask_out = io.BytesIO()
    mask.save(mask_out, "PNG")
    image_url = upload(api, out.getvalue()).json()["data"]["file_url"]
    mask_url = upload(api, mask_out.getvalue(), "mask.png").json()["data"]["file_url"]

    task = finished_task(api, "Put a red balloon here", image_urls=[image_url], mask_url=mask_url)
    result = Image.open(io.BytesIO(download(task["results"][0]).content)).convert("RGB")
    for point in [(10, 10), (1000, 500), (100, 900), (255, 255), (768, 768)]:
        assert result.getpixel(point) == reference.getpixel(point)
    changed = sum(
        result.getpixel((x, y)) != reference.getpixel((x, y))
        for x in range(300, 700, 40)
        for y in range(300, 700, 40)
    )
    assert changed > 90


def test_image_to_image_derives_from_the_reference(api):
    black = upload(api, png_bytes((512, 512), "black")).json()["data"]["file_url"]
    white = upload(api, png_bytes((512, 512), "white")).json()["data"]["file_url"]
    darker = Image.open(
        io.BytesIO(download(finished_task(api, "Same", image_urls=[black])["results"][0]).content)
    )
    lighter = Image.open(
        io.BytesIO(download(finished_task(api, "Same", image_urls=[white])["results"][0]).content)
    )
    assert (
        sum(
            lighter.convert("L").getpixel((500, 500 + i))
            - darker.convert("L").getpixel((500, 500 + i))
            for i in range(50)
        )
        > 50 * 100
    )


def test_a_bad_reference_or_mask_fails_the_task_with_the_documented_code(api):
    missing = finished_task(api, image_urls=["http://127.0.0.1:9/missing.png"])
    assert missing["error"]["code"] == "resource_not_found"
    small = upload(api, png_bytes((64, 64), "blue")).json()["data"]["file_url"]
    big_mask = upload(api, png_bytes((128, 128), (0, 0, 0, 0), "RGBA")).json()["data"]["file_url"]
    mismatched = finished_task(api, image_urls=[small], mask_url=big_mask)
    assert mismatched["error"]["code"] == "image_dimension_mismatch"


# Callbacks


def test_a_callback_is_delivered_when_the_task_ends_and_retried_after_a_failure(
    local_api, receiver
):
    url, received, statuses = receiver
    statuses.append(500)
    task_id = create(local_api, callback_url=f"{url}/hook").json()["id"]
    deadline = time.monotonic() + 5
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [body["id"] for _, body in received] == [task_id, task_id]
    assert received[0][1]["status"] == "completed" and received[0][1]["results"]
    assert received[1][0] - received[0][0] >= 0.9, "the first retry waits 1 s"


# Restarts


def test_a_restart_keeps_tasks_and_their_links_and_stops_cleanly(tmp_path):
    with start_sandbox(tmp_path, env={"SANDBOX_TASK_SECONDS": "0.3"}) as first:
        with httpx.Client(base_url=first.url, headers=first.headers) as http:
            task_id = create(http, n=2).json()["id"]
            links = wait_until_done(http, task_id)["results"]
    assert first.process.returncode == 0
    assert "EvoLink sandbox listening on " + first.url in first.log()

    with start_sandbox(tmp_path, port=first.port) as second:
        task = httpx.get(f"{second.url}/v1/tasks/{task_id}", headers=second.headers).json()
        assert task["status"] == "completed" and task["results"] == links
        assert Image.open(io.BytesIO(download(links[1]).content)).size == (1024, 1024)


def test_faults_and_the_key_can_be_set_from_the_environment_at_start(tmp_path):
    env = {
        "SANDBOX_API_KEY": "sk-evo-test",
        "SANDBOX_FAULTS": '{"error_status": 502, "error_count": 1}',
    }
    with start_sandbox(tmp_path, env=env) as sandbox:
        assert sandbox.api_key == "sk-evo-test"
        credits = f"{sandbox.url}/v1/credits"
        assert (
            httpx.get(credits, headers={"Authorization": "Bearer sandbox-key"}).status_code == 401
        )
        assert_contract_error(httpx.get(credits, headers=sandbox.headers), 502)
        assert httpx.get(credits, headers=sandbox.headers).status_code == 200


def test_a_sandbox_that_cannot_start_raises_with_its_output(tmp_path):
    with pytest.raises(SandboxError, match="SANDBOX_TASK_SECONDS must be a number"):
        start_sandbox(tmp_path, env={"SANDBOX_TASK_SECONDS": "soon"})


SANDBOX_IMPORTS = """
import importlib, pkgutil, sys
import django
django.setup()
import playground.sandbox
for module in pkgutil.iter_modules(playground.sandbox.__path__):
    if module.name != "__main__":
        importlib.import_module("playground.sandbox." + module.name)
print(" ".join(sorted(name for name in sys.modules if name.startswith("playground"))))
"""


def test_the_sandbox_imports_nothing_of_the_app_but_the_contract_and_shared_helpers(tmp_path):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "playground.sandbox.settings",
                   "SANDBOX_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", SANDBOX_IMPORTS], env=environment, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    app_modules = {name for name in result.stdout.split() if not name.startswith("playground.sandbox")}
    assert app_modules == {"playground", "playground.env", "playground.evolink", "playground.evolink.contract",
                           "playground.outbound"}
