"""The sandbox answers as the real EvoLink does, over real HTTP: the file hosting quota and
its 72-hour expiry, masks read either way, keyed creates, and the replies newer vendor
clients read (issue 16). The switches used here are the ones the app's tests use too."""

import io
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest
from PIL import Image

from playground.evolink.contract import (
    FILE_QUOTA_EXCEEDED,
    IDEMPOTENCY_HEADER,
    MASK_CHANGE_PIXEL,
    MASK_KEEP_PIXEL,
    REPLAYED_HEADER,
    REQUEST_ID_HEADERS,
)
from playground.sandbox.process import SandboxError, start_sandbox

from .test_sandbox import finished_task, wait_until_done

OTHER_KEY = "sk-evo-other-account"
INSTANT = " [sandbox:seconds=0]"
REQUEST_ID = REQUEST_ID_HEADERS[0]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    env = {
        "SANDBOX_TASK_SECONDS": "1",
        "SANDBOX_MAX_FILES": "3",
        "SANDBOX_EXTRA_API_KEYS": OTHER_KEY,
        "SANDBOX_ALLOW_PRIVATE_URLS": "",
    }
    with start_sandbox(tmp_path_factory.mktemp("vendor-sandbox"), env=env) as running:
        yield running


def account(sandbox, key):
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=sandbox.url, headers=headers, timeout=10)


def clear(http):
    """Switches off, and every file of this account deleted: each test starts from none."""
    http.delete("/_sandbox/faults")
    listed = http.get("/api/v1/files/list", params={"pageSize": 100}).json()["data"]["files"]
    for file in listed:
        http.delete(f"/api/v1/files/{file['file_id']}")


@pytest.fixture
def api(sandbox):
    with account(sandbox, sandbox.api_key) as http:
        clear(http)
        yield http
        clear(http)


@pytest.fixture
def other(sandbox):
    with account(sandbox, OTHER_KEY) as http:
        clear(http)
        yield http
        clear(http)


def png_bytes(size, colour, mode="RGB"):
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def upload(http, data=None, name="picture.png", **form):
    data = data or png_bytes((32, 32), "teal")
    return http.post(
        "/api/v1/files/upload/stream",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
    )


def hosted(http, data=None, **form):
    response = upload(http, data, **form)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def create(http, prompt="A lighthouse at dusk", headers=None, **fields):
    body = {"model": "gpt-4o-image", "prompt": prompt, **fields}
    return http.post("/v1/images/generations", json=body, headers=headers)


def quota(http):
    return http.get("/api/v1/files/quota").json()["data"]


def seconds_between(start, end):
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


# File hosting: quota, expiry, list, delete


def test_an_upload_over_the_quota_is_refused_with_code_40003_until_a_file_is_deleted(api):
    kept = [hosted(api) for _ in range(3)]
    assert quota(api) == {"user_group": "default", "used_files": 3, "max_files": 3, "remain_files": 0}

    refused = upload(api)
    assert refused.status_code == 403
    body = refused.json()
    assert (body["success"], body["code"]) == (False, FILE_QUOTA_EXCEEDED)
    assert "quota" in body["msg"] and "delete" in body["msg"]
    assert body["error"]["code"] == "file_quota_exceeded"

    deleted = api.delete(f"/api/v1/files/{kept[0]['file_id']}")
    assert deleted.status_code == 200 and deleted.json()["success"] is True
    assert httpx.get(kept[0]["file_url"]).status_code == 404
    assert quota(api)["remain_files"] == 1
    assert upload(api).status_code == 200


def test_the_quota_can_answer_200_with_success_false_as_some_vendor_replies_do(api):
    api.post("/_sandbox/faults", json={"max_files": 1, "quota_status": 200})
    assert quota(api)["max_files"] == 1
    hosted(api)
    refused = upload(api)
    assert refused.status_code == 200
    assert (refused.json()["success"], refused.json()["code"]) == (False, FILE_QUOTA_EXCEEDED)


def test_each_api_key_has_its_own_quota_files_and_list(api, other):
    mine = [hosted(api) for _ in range(3)]
    assert upload(api).status_code == 403
    theirs = hosted(other)
    assert quota(other)["used_files"] == 1

    listed = other.get("/api/v1/files/list").json()["data"]
    assert [file["file_id"] for file in listed["files"]] == [theirs["file_id"]]
    assert listed["total"] == 1
    refused = other.delete(f"/api/v1/files/{mine[0]['file_id']}")
    assert refused.status_code == 404 and refused.json()["success"] is False
    assert quota(api)["used_files"] == 3


def test_the_list_pages_newest_first_under_either_spelling_of_page_size(api):
    ids = [hosted(api)["file_id"] for _ in range(3)]
    for size_name in ("pageSize", "page_size"):
        first = api.get("/api/v1/files/list", params={"page": 1, size_name: 2}).json()["data"]
        second = api.get("/api/v1/files/list", params={"page": 2, size_name: 2}).json()["data"]
        assert first["total"] == second["total"] == 3
        listed = [file["file_id"] for file in first["files"] + second["files"]]
        assert listed == ids[::-1]
    refused = api.get("/api/v1/files/list", params={"page_size": 101})
    assert refused.status_code == 400 and refused.json()["success"] is False


def test_a_hosted_file_lives_72_hours_and_then_is_gone_and_frees_the_quota(api):
    file = hosted(api)
    assert seconds_between(file["upload_time"], file["expires_at"]) == 72 * 3600
    api.post("/_sandbox/faults", json={"file_lifetime": 0.5})
    short = hosted(api)
    assert httpx.get(short["file_url"]).status_code == 200
    time.sleep(0.6)
    assert httpx.get(short["file_url"]).status_code == 404
    assert quota(api)["used_files"] == 1
    assert api.delete(f"/api/v1/files/{short['file_id']}").status_code == 404


# File names as the vendor's client sends them


def test_a_multipart_upload_keeps_the_file_name_and_upload_path_fields(api):
    camel = hosted(api, name="blob", fileName="mask-edit.png", uploadPath="playground/masks")
    assert (camel["file_name"], camel["original_name"]) == ("mask-edit.png", "mask-edit.png")
    assert camel["upload_path"] == "playground/masks/mask-edit.png"
    assert "mask-edit" not in camel["file_url"], "a client's name never becomes a path here"
    assert httpx.get(camel["file_url"]).status_code == 200

    snake = hosted(api, name="blob", file_name="cat.png", upload_path="../../etc")
    assert (snake["file_name"], snake["upload_path"]) == ("cat.png", "etc/cat.png")
    plain = hosted(api, name="part.png")
    assert plain["original_name"] == "part.png" and plain["file_name"].startswith("file_")


def test_a_url_upload_keeps_the_file_name_field(api):
    source = hosted(api)
    response = api.post(
        "/api/v1/files/upload/url",
        json={"file_url": source["file_url"], "file_name": "from-url.png", "upload_path": "refs"},
    )
    assert response.status_code == 200, response.text
    file = response.json()["data"]
    assert (file["file_name"], file["original_name"]) == ("from-url.png", "from-url.png")
    assert file["upload_path"] == "refs/from-url.png"


# Masks read either way


SIDE = 1024  # the result's own size, so no resampling blurs the comparison
SQUARE = (256, 256, 768, 768)


def gradient_reference(api):
    reference = Image.linear_gradient("L").resize((SIDE, SIDE)).convert("RGB")
    out = io.BytesIO()
    reference.save(out, "PNG")
    return reference, hosted(api, out.getvalue())["file_url"]


def mask_url(api, mode, outside, inside):
    """A mask the reference's size: `inside` on the middle square, `outside` around it."""
    mask = Image.new(mode, (SIDE, SIDE), outside)
    mask.paste(inside, SQUARE)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return hosted(api, out.getvalue(), name="mask.png")["file_url"]


def changed_share(api, reference, image_url, mask):
    """The share of pixels inside the middle square, and outside it, that the edit changed."""
    task = finished_task(api, "Put a red balloon here", image_urls=[image_url], mask_url=mask)
    assert task["status"] == "completed", task
    result = Image.open(io.BytesIO(httpx.get(task["results"][0]).content)).convert("RGB")

    def share(points):
        return sum(result.getpixel(p) != reference.getpixel(p) for p in points) / len(points)

    grid = [(x, y) for x in range(0, SIDE, 32) for y in range(0, SIDE, 32)]
    left, top, right, bottom = SQUARE
    inside = [(x, y) for x, y in grid if left + 32 <= x < right - 32 and top + 32 <= y < bottom - 32]
    outside = [(x, y) for x, y in grid if not (left <= x < right and top <= y < bottom)]
    return share(inside), share(outside)


@pytest.mark.parametrize("reading", ["alpha", "white"])
def test_a_mask_transparent_and_white_where_to_change_means_the_same_under_both_readings(
    api, reading
):
    api.post("/_sandbox/faults", json={"mask_reading": reading})
    reference, image_url = gradient_reference(api)
    mask = mask_url(api, "RGBA", MASK_KEEP_PIXEL, MASK_CHANGE_PIXEL)
    inside, outside = changed_share(api, reference, image_url, mask)
    assert inside > 0.9 and outside == 0


def test_the_white_reading_changes_white_and_ignores_transparency(api):
    api.post("/_sandbox/faults", json={"mask_reading": "white"})
    reference, image_url = gradient_reference(api)
    black_and_white = mask_url(api, "L", 0, 255)
    inside, outside = changed_share(api, reference, image_url, black_and_white)
    assert inside > 0.9 and outside == 0
    transparent_black = mask_url(api, "RGBA", (0, 0, 0, 255), (0, 0, 0, 0))
    assert changed_share(api, reference, image_url, transparent_black) == (0, 0)


def test_the_alpha_reading_leaves_an_opaque_black_and_white_mask_unchanged(api):
    reference, image_url = gradient_reference(api)
    black_and_white = mask_url(api, "L", 0, 255)
    assert changed_share(api, reference, image_url, black_and_white) == (0, 0)


def test_a_bad_mask_reading_switch_is_refused(api):
    response = api.post("/_sandbox/faults", json={"mask_reading": "black"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "mask_reading"


# Keyed creates


def credits_used(http):
    return http.get("/v1/credits").json()["data"]["user"]["used_credits"]


def test_the_same_key_and_body_answer_the_same_task_once_billed_marked_as_a_replay(api):
    key = {IDEMPOTENCY_HEADER: "run_0123456789abcdef"}
    before = credits_used(api)
    first = create(api, headers=key, n=2)
    again = create(api, headers=key, n=2)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert REPLAYED_HEADER not in first.headers
    assert again.headers[REPLAYED_HEADER] == "true"
    assert credits_used(api) == pytest.approx(before + 3.0)

    assert create(api, headers={IDEMPOTENCY_HEADER: "run_other"}, n=2).json()["id"] != first.json()["id"]
    assert create(api, n=2).json()["id"] != first.json()["id"]


def test_the_same_key_with_another_body_is_a_409_in_the_vendor_error_shape(api):
    key = {IDEMPOTENCY_HEADER: "run_conflict"}
    assert create(api, headers=key, n=1).status_code == 200
    refused = create(api, headers=key, n=2)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "idempotency_key_reused" and error["type"] == "invalid_request_error"
    assert error["param"] == IDEMPOTENCY_HEADER and "different request body" in error["message"]


def test_a_key_belongs_to_the_account_that_sent_it(api, other):
    key = {IDEMPOTENCY_HEADER: "run_shared"}
    assert create(api, headers=key).json()["id"] != create(other, headers=key).json()["id"]


def test_a_create_whose_reply_was_lost_is_answered_again_by_its_key(api):
    key = {IDEMPOTENCY_HEADER: "run_lost_reply"}
    api.delete("/_sandbox/calls")
    api.post("/_sandbox/faults", json={"drop_count": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        create(api, headers=key)
    retried = create(api, headers=key)
    assert retried.headers[REPLAYED_HEADER] == "true"
    assert wait_until_done(api, retried.json()["id"])["status"] == "completed"
    creates = [
        call for call in api.get("/_sandbox/calls").json()["calls"] if call["method"] == "POST"
    ]
    assert [(call["dropped"], call["replayed"], call["idempotency_key"]) for call in creates] == [
        (True, False, "run_lost_reply"),
        (False, True, "run_lost_reply"),
    ]


def test_a_refused_create_is_not_remembered_under_its_key(api):
    key = {IDEMPOTENCY_HEADER: "run_refused"}
    assert create(api, headers=key, n=3).status_code == 400
    assert create(api, headers=key, n=3).status_code == 400
    api.post("/_sandbox/faults", json={"error_status": 503, "error_count": 1})
    assert create(api, headers={IDEMPOTENCY_HEADER: "run_unavailable"}).status_code == 503
    assert REPLAYED_HEADER not in create(api, headers={IDEMPOTENCY_HEADER: "run_unavailable"}).headers


# Replies as newer vendor clients read them


def test_every_api_reply_carries_a_request_id_header(api):
    ids = {create(api).headers[REQUEST_ID], api.get("/v1/credits").headers[REQUEST_ID]}
    ids.add(api.get("/api/v1/files/quota").headers[REQUEST_ID])
    ids.add(api.get("/v1/tasks/task-unified-1757165031-zzzzzzzz").headers[REQUEST_ID])
    assert len(ids) == 4 and all(value.startswith("req_") for value in ids)


def test_the_request_id_field_matches_the_header_when_switched_on(api):
    api.post("/_sandbox/faults", json={"request_id_field": True})
    created = create(api, "A kite" + INSTANT)
    assert created.json()["request_id"] == created.headers[REQUEST_ID]
    queried = api.get(f"/v1/tasks/{created.json()['id']}")
    assert queried.json()["request_id"] == queried.headers[REQUEST_ID]
    api.delete("/_sandbox/faults")
    assert "request_id" not in create(api).json()


def test_a_finished_task_can_carry_only_result_data(api):
    api.post("/_sandbox/faults", json={"results_field": "result_data"})
    task = finished_task(api, n=2)
    assert "results" not in task and len(task["result_data"]) == 2
    image = httpx.get(task["result_data"][1]["image_url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    api.post("/_sandbox/faults", json={"results_field": "results"})
    task = finished_task(api)
    assert "result_data" not in task and len(task["results"]) == 1


def test_a_finished_task_can_carry_the_credits_it_used(api):
    api.post("/_sandbox/faults", json={"credits_used": True})
    task = finished_task(api, "Two of four [sandbox:produce=2]", n=4)
    assert task["usage"]["credits_reserved"] == 6.0 and task["usage"]["credits_used"] == 3.0
    failed = finished_task(api, "A cat [sandbox:fail=service_error]")
    assert failed["usage"]["credits_used"] == 0
    pending = create(api, "Slow [sandbox:seconds=30]").json()
    assert "credits_used" not in pending["usage"]
    api.delete("/_sandbox/faults")
    assert "credits_used" not in finished_task(api)["usage"]


def test_a_task_can_end_cancelled_with_a_reason(api):
    task = finished_task(api, "A cat [sandbox:cancel=Cancelled by the operator]")
    assert task["status"] == "cancelled" and task["progress"] == 100
    assert task["error"] == {
        "code": "request_cancelled",
        "message": "Cancelled by the operator",
        "type": "invalid_request_error",
    }
    assert "results" not in task and "result_data" not in task
    assert task["task_info"] == {"can_cancel": False}

    api.post("/_sandbox/faults", json={"cancel_reason": "Upstream maintenance"})
    assert finished_task(api)["error"]["message"] == "Upstream maintenance"


# Settings from the environment


def test_the_vendor_settings_can_be_set_from_the_environment(tmp_path):
    env = {
        "SANDBOX_MAX_FILES": "500",
        "SANDBOX_USER_GROUP": "vip",
        "SANDBOX_FILE_LIFETIME": "3600",
        "SANDBOX_MASK_READING": "white",
        "SANDBOX_IDEMPOTENCY_SECONDS": "0.5",
    }
    with start_sandbox(tmp_path, env=env) as running, account(running, running.api_key) as http:
        assert quota(http) == {"user_group": "vip", "used_files": 0, "max_files": 500, "remain_files": 500}
        file = hosted(http)
        assert seconds_between(file["upload_time"], file["expires_at"]) == 3600
        key = {IDEMPOTENCY_HEADER: "run_window"}
        first = create(http, headers=key).json()["id"]
        assert create(http, headers=key).json()["id"] == first
        time.sleep(0.6)
        assert create(http, headers=key).json()["id"] != first


def test_a_bad_mask_reading_setting_stops_the_start(tmp_path):
    with pytest.raises(SandboxError, match="SANDBOX_MASK_READING"):
        start_sandbox(tmp_path, env={"SANDBOX_MASK_READING": "inverted"})


def test_creates_sent_at_once_with_one_key_make_one_task(sandbox, api):
    key = {IDEMPOTENCY_HEADER: "run_at_once"}
    before = credits_used(api)

    def send(_):
        with account(sandbox, sandbox.api_key) as http:
            return create(http, headers=key).json()["id"]

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(send, range(4)))
    assert len(ids) == 1
    assert credits_used(api) == pytest.approx(before + 1.5)
