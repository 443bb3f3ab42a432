"""The client's contract handling, with the transport as the one patched point."""

import json

import httpx
import pytest

from playground.evolink import errors
from playground.evolink.client import EvoLinkClient

KEY = "sk-evo-test-0000000000000000"


def client_answering(*replies, sleeps=None):
    """A client whose transport answers with `replies` in turn (a response or an exception)."""
    queue = list(replies)
    sent = []

    def handler(request):
        sent.append(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    client = EvoLinkClient(
        "https://api.example.test",
        KEY,
        transport=httpx.MockTransport(handler),
        sleep=(sleeps.append if sleeps is not None else lambda seconds: None),
    )
    client.sent = sent
    return client


def error_reply(status, message="nope", error_type="invalid_request_error", code="", headers=None):
    body = {"error": {"code": code or status, "message": message, "type": error_type}}
    return httpx.Response(status, json=body, headers=headers)


CREATED = {
    "created": 1757165031,
    "id": "task-unified-1757165031-uyujaw3d",
    "model": "gpt-4o-image",
    "object": "image.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 45},
    "type": "image",
    "usage": {"billing_rule": "per_call", "credits_reserved": 2.5, "user_group": "default"},
}


def test_it_reads_a_created_task_as_the_vendor_sends_it():
    client = client_answering(httpx.Response(200, json={**CREATED, "brand_new_field": {"x": 1}}))
    task = client.create_generation("a cat", size="3:2", n=2)
    assert task.id == "task-unified-1757165031-uyujaw3d"
    assert task.status == "pending"
    assert task.estimated_time == 45
    assert str(task.credits_reserved) == "2.5"
    body = json.loads(client.sent[0].content)
    assert body == {"model": "gpt-4o-image", "prompt": "a cat", "size": "3:2", "n": 2}
    assert client.sent[0].headers["Authorization"] == f"Bearer {KEY}"


def test_it_reads_results_from_result_data_when_results_is_missing():
    reply = {"id": "t", "status": "completed", "progress": 100,
             "result_data": [{"image_url": "https://x.test/1.png"}, {"image_url": "https://x.test/2.png"}]}
    task = client_answering(httpx.Response(200, json=reply)).get_task("t")
    assert task.results == ["https://x.test/1.png", "https://x.test/2.png"]


@pytest.mark.parametrize(
    "status, error_class, words",
    [
        (400, errors.BadRequest, "rejected the request"),
        (401, errors.AuthenticationFailed, "API key was refused"),
        (402, errors.InsufficientBalance, "not have enough credits"),
        (403, errors.AccessDenied, "not allowed"),
        (404, errors.NotFound, "does not know this task"),
        (413, errors.RequestTooLarge, "too large"),
        (429, errors.RateLimited, "rate limited"),
        (500, errors.ServerError, "internal error"),
        (502, errors.ServiceUnavailable, "temporarily unavailable"),
        (503, errors.ServiceUnavailable, "temporarily unavailable"),
    ],
)
def test_each_documented_status_becomes_a_typed_error_with_a_plain_sentence(status, error_class, words):
    client = client_answering(error_reply(status))
    with pytest.raises(error_class) as caught:
        client.get_task("task-1")
    assert words in caught.value.message
    assert KEY not in str(caught.value)


def test_a_business_error_type_gets_its_own_sentence():
    client = client_answering(error_reply(400, error_type="content_policy_violation"))
    with pytest.raises(errors.BadRequest, match="content policy"):
        client.create_generation("something")


def test_a_bad_request_names_what_the_vendor_said_was_wrong():
    client = client_answering(error_reply(400, message="size must be one of 1:1, 2:3, 3:2"))
    with pytest.raises(errors.BadRequest, match="size must be one of"):
        client.create_generation("x", size="9:9")


def test_a_reply_that_is_not_json_is_a_clear_error():
    client = client_answering(httpx.Response(200, text="<html>gateway</html>"))
    with pytest.raises(errors.InvalidResponse, match="could not be read"):
        client.get_task("t")


def test_an_error_page_that_is_not_json_still_maps_by_status():
    client = client_answering(httpx.Response(401, text="<html>nope</html>"))
    with pytest.raises(errors.AuthenticationFailed):
        client.get_credits()


def test_a_timeout_a_refused_and_a_dropped_connection_are_typed_errors():
    with pytest.raises(errors.UpstreamTimeout, match="did not answer in time"):
        client_answering(httpx.ReadTimeout("slow")).get_task("t")
    with pytest.raises(errors.ConnectionFailed, match="Could not reach"):
        client_answering(httpx.ConnectError("refused")).get_task("t")
    with pytest.raises(errors.ConnectionDropped, match="broke off"):
        client_answering(httpx.RemoteProtocolError("peer closed")).get_task("t")


def test_a_create_whose_connection_dropped_is_not_sent_again():
    client = client_answering(httpx.RemoteProtocolError("peer closed"))
    with pytest.raises(errors.TaskUnconfirmed, match="not sent again"):
        client.create_generation("x")
    assert len(client.sent) == 1


def test_a_create_that_never_connected_is_sent_again():
    client = client_answering(httpx.ConnectError("refused"), httpx.Response(200, json=CREATED))
    assert client.create_generation("x").id == CREATED["id"]
    assert len(client.sent) == 2


def test_a_task_reply_of_the_wrong_shape_is_a_clear_error():
    reply = {"id": "t", "status": "pending", "usage": {"credits_reserved": "lots"}}
    with pytest.raises(errors.InvalidResponse):
        client_answering(httpx.Response(200, json=reply)).get_task("t")


def test_a_429_is_retried_after_the_seconds_retry_after_asks_for():
    sleeps = []
    client = client_answering(
        error_reply(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"id": "t", "status": "processing", "progress": 40}),
        sleeps=sleeps,
    )
    task = client.get_task("t")
    assert task.progress == 40
    assert sleeps == [7.0]


def test_503s_and_connection_errors_back_off_then_give_up():
    sleeps = []
    client = client_answering(error_reply(503), httpx.ConnectError("refused"), error_reply(503), error_reply(503), sleeps=sleeps)
    with pytest.raises(errors.ServiceUnavailable):
        client.get_task("t")
    assert len(client.sent) == 4  # one try and three retries
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_create_that_timed_out_is_not_sent_twice():
    client = client_answering(httpx.ReadTimeout("slow"))
    with pytest.raises(errors.TaskUnconfirmed, match="not sent again"):
        client.create_generation("x")
    assert len(client.sent) == 1


def test_a_permanent_error_is_not_retried():
    client = client_answering(error_reply(402))
    with pytest.raises(errors.InsufficientBalance):
        client.create_generation("x")
    assert len(client.sent) == 1


@pytest.mark.parametrize("code", sorted(errors.TASK_FAILURES))
def test_every_task_failure_code_reads_as_a_sentence(code):
    reply = {"id": "t", "status": "failed", "error": {"code": code, "message": "raw", "type": "x"}}
    task = client_answering(httpx.Response(200, json=reply)).get_task("t")
    assert task.error.code == code
    assert task.error.message.endswith(".")
    assert task.error.message != "raw"


def test_retryable_task_failures_are_marked_so():
    assert errors.task_failure("service_unavailable").retryable
    assert not errors.task_failure("content_policy_violation").retryable
    assert errors.task_failure("something_new").message == errors.task_failure("unknown_error").message


def test_credits_are_read_from_the_account():
    reply = {"data": {"token": {"remaining_credits": 99416.4429, "unlimited_credits": False, "used_credits": 583.5571},
                      "user": {"remaining_credits": 1095.3996, "used_credits": 135.9048}},
             "message": "", "success": True}
    credits = client_answering(httpx.Response(200, json=reply)).get_credits()
    assert str(credits.remaining) == "1095.3996"


def test_an_upload_returns_the_hosted_url():
    reply = {"success": True, "code": 200, "msg": "ok", "data": {"file_id": "f1", "file_url": "https://files.test/f1.png"}}
    client = client_answering(httpx.Response(200, json=reply))
    hosted = client.upload_file(b"\x89PNG...", "ref.png", "image/png")
    assert hosted.file_url == "https://files.test/f1.png"
    assert client.sent[0].url.path == "/api/v1/files/upload/stream"


@pytest.mark.parametrize("status", [403, 200])
def test_an_upload_over_the_hosting_quota_is_told_apart_whatever_the_status(status):
    reply = {"success": False, "code": 40003, "msg": "File quota exceeded"}
    if status == 403:
        reply["error"] = {"code": "file_quota_exceeded", "type": "insufficient_quota", "message": "quota"}
    client = client_answering(httpx.Response(status, json=reply))
    with pytest.raises(errors.HostingQuotaFull) as raised:
        client.upload_file(b"\x89PNG...", "ref.png", "image/png")
    assert raised.value.code == errors.HostingQuotaFull.CODE
    assert len(client.sent) == 1


def test_the_hosting_quota_is_read_and_a_hosted_file_deleted_by_its_id():
    quota = {"success": True, "code": 200, "msg": "ok",
             "data": {"user_group": "default", "used_files": 98, "max_files": 100, "remain_files": 2}}
    deleted = {"success": True, "code": 200, "msg": "File deleted.", "data": {"file_id": "file_1"}}
    client = client_answering(httpx.Response(200, json=quota), httpx.Response(200, json=deleted))
    read = client.file_quota()
    assert (read.used, read.max, read.remaining, read.user_group, read.full) == (98, 100, 2, "default", False)
    client.delete_file("file_1")
    assert [(request.method, request.url.path) for request in client.sent] == [
        ("GET", "/api/v1/files/quota"),
        ("DELETE", "/api/v1/files/file_1"),
    ]


def test_a_quota_reply_of_another_shape_is_an_invalid_response():
    client = client_answering(httpx.Response(200, json={"success": True, "data": {"used": 1}}))
    with pytest.raises(errors.InvalidResponse):
        client.file_quota()


def test_the_accounts_hosted_files_are_listed_a_page_at_a_time():
    listed = {"success": True, "code": 200, "msg": "ok", "data": {"total": 3, "page": 2, "pageSize": 2, "files": [
        {"file_id": "file_3", "file_url": "https://files.example/3.png", "upload_time": "2026-01-02T03:04:05Z",
         "expires_at": "2026-01-05T03:04:05Z"},
    ]}}
    client = client_answering(httpx.Response(200, json=listed))
    files, total = client.list_files(page=2, page_size=2)
    assert total == 3
    assert [(hosted.file_id, hosted.file_url, hosted.uploaded_at) for hosted in files] == [
        ("file_3", "https://files.example/3.png", "2026-01-02T03:04:05Z")
    ]
    (request,) = client.sent
    assert (request.url.path, dict(request.url.params)) == ("/api/v1/files/list", {"page": "2", "pageSize": "2"})


def test_a_file_list_of_another_shape_is_an_invalid_response():
    client = client_answering(httpx.Response(200, json={"success": True, "data": {"files": [{"name": "x"}]}}))
    with pytest.raises(errors.InvalidResponse):
        client.list_files()


def test_a_retry_after_longer_than_the_cap_waits_the_cap():
    sleeps = []
    client = client_answering(
        error_reply(503, headers={"Retry-After": "3600"}),
        httpx.Response(200, json={"id": "t", "status": "processing", "progress": 40}),
        sleeps=sleeps,
    )
    assert client.get_task("t").progress == 40
    assert sleeps == [30.0]


def test_a_poll_that_timed_out_is_asked_again_but_an_upload_is_not_sent_twice():
    client = client_answering(httpx.ReadTimeout("slow"), httpx.Response(200, json={"id": "t", "status": "pending"}))
    assert client.get_task("t").id == "t"
    assert len(client.sent) == 2
    client = client_answering(httpx.ReadTimeout("slow"))
    with pytest.raises(errors.UpstreamTimeout):
        client.upload_file(b"\x89PNG...", "ref.png", "image/png")
    assert len(client.sent) == 1


def test_every_create_carries_an_idempotency_key_kept_across_its_retries():
    client = client_answering(error_reply(429), error_reply(503), httpx.Response(200, json=CREATED))
    client.create_generation("a cat")
    keys = [request.headers["Idempotency-Key"] for request in client.sent]
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0].startswith("run_")
    client.create_generation("a cat")
    assert client.sent[-1].headers["Idempotency-Key"] != keys[0]  # another create, another key


def test_a_create_sends_the_key_it_is_given():
    client = client_answering(httpx.Response(200, json=CREATED))
    client.create_generation("a cat", idempotency_key="run_attempt-1")
    assert client.sent[0].headers["Idempotency-Key"] == "run_attempt-1"


@pytest.mark.parametrize(
    "body, headers",
    [
        ({"request_id": "req_field"}, {}),
        ({}, {"X-Request-Id": "req_field"}),
        ({}, {"X-Oneapi-Request-Id": "req_field"}),
        ({"request_id": "req_field"}, {"X-Request-Id": "req_header"}),  # the body's comes first
    ],
)
def test_the_request_id_is_read_from_the_field_or_a_header(body, headers):
    task = client_answering(httpx.Response(200, json={**CREATED, **body}, headers=headers)).create_generation("x")
    assert task.request_id == "req_field"


def test_credits_used_on_a_finished_task_is_read_when_present():
    finished = {"id": "t", "status": "completed", "results": ["https://x.test/1.png"],
                "usage": {"credits_reserved": 3, "credits_used": 1.25}}
    assert str(client_answering(httpx.Response(200, json=finished)).get_task("t").credits_used) == "1.25"
    del finished["usage"]["credits_used"]
    assert client_answering(httpx.Response(200, json=finished)).get_task("t").credits_used is None


def test_a_cancelled_task_says_why_in_words():
    reply = {"id": "t", "status": "cancelled", "error": {"code": "request_cancelled", "message": "Stopped by an admin"}}
    task = client_answering(httpx.Response(200, json=reply)).get_task("t")
    assert task.error.code == "request_cancelled"
    assert str(task.error.message) == "The task was cancelled: Stopped by an admin"
    bare = client_answering(httpx.Response(200, json={"id": "t", "status": "cancelled"})).get_task("t")
    assert str(bare.error.message) == "The task was cancelled."


def finished_with(credits_used):
    """A finished task's reply, as raw JSON text: NaN and Infinity are not JSON, but come through."""
    text = f'{{"id": "t", "status": "completed", "results": ["https://x.test/1.png"], "usage": {{"credits_used": {credits_used}}}}}'
    return httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "credits_used",
    ["NaN", "Infinity", "-Infinity", '"NaN"', '"Infinity"', '"sNaN"', "1e400", "-1", '"-0.5"',
     "1234567890123", "100000000", '"1e12"', '"many"', "true", "[1]", '{"x": 1}'],
)
def test_a_credits_used_figure_that_is_no_believable_charge_is_ignored(credits_used):
    task = client_answering(finished_with(credits_used)).get_task("t")
    assert task.credits_used is None
    assert task.results == ["https://x.test/1.png"]


@pytest.mark.parametrize("credits_used, read", [("0", "0"), ('"2.5"', "2.5"), ("99999999", "99999999")])
def test_a_credits_used_figure_in_range_is_read(credits_used, read):
    assert str(client_answering(finished_with(credits_used)).get_task("t").credits_used) == read


def test_a_reservation_that_is_no_believable_figure_is_ignored():
    reply = {**CREATED, "usage": {"credits_reserved": -3}, "task_info": {"estimated_time": 10**30}}
    task = client_answering(httpx.Response(200, json=reply)).create_generation("a cat")
    assert (task.credits_reserved, task.estimated_time) == (None, None)


def test_only_strings_are_result_links():
    reply = {"id": "t", "status": "completed",
             "result_data": [{"image_url": 7}, {"image_url": {"u": "x"}}, {"image_url": "https://x.test/1.png"},
                             {"image_url": ["https://x.test/2.png"]}, "https://x.test/3.png", {"image_url": ""}]}
    assert client_answering(httpx.Response(200, json=reply)).get_task("t").results == ["https://x.test/1.png"]
    reply = {"id": "t", "status": "completed", "results": {"0": "https://x.test/1.png"}}
    assert client_answering(httpx.Response(200, json=reply)).get_task("t").results == []


@pytest.mark.parametrize(
    "given, kept",
    [
        ("req_\x00a\x1bb\nc\u200bd", "req_abcd"),
        ("r" * 5000, "r" * 200),
        (12345, "12345"),
        ({"id": "x"}, ""),
        (["req_1"], ""),
        (True, ""),
    ],
)
def test_a_request_id_is_kept_as_a_short_printable_string(given, kept):
    task = client_answering(httpx.Response(200, json={**CREATED, "request_id": given})).create_generation("x")
    assert task.request_id == kept


def test_a_request_id_header_is_cleaned_too():
    reply = httpx.Response(200, json=CREATED, headers={"X-Request-Id": "req_1\tx" + "y" * 400})
    task = client_answering(reply).create_generation("x")
    assert task.request_id == "req_1" + "x" + "y" * 194


@pytest.mark.parametrize("task_id", [{"id": 1}, ["t"], True, "t" * 101, "task\n1"])
def test_a_created_task_without_a_usable_id_is_unconfirmed(task_id):
    client = client_answering(httpx.Response(200, json={**CREATED, "id": task_id}))
    with pytest.raises(errors.TaskUnconfirmed):
        client.create_generation("a cat")


def test_a_task_id_is_asked_about_as_one_path_segment():
    client = client_answering(httpx.Response(200, json={"id": "a/b?c", "status": "pending"}))
    client.get_task("a/b?c")
    assert client.sent[0].url.raw_path == b"/v1/tasks/a%2Fb%3Fc"


def test_a_create_sends_its_key_as_the_run_id_too():
    client = client_answering(error_reply(503), httpx.Response(200, json=CREATED))
    client.create_generation("a cat", idempotency_key="run_attempt-1")
    assert [(r.headers["Idempotency-Key"], r.headers["X-Evo-Run-Id"]) for r in client.sent] == [
        ("run_attempt-1", "run_attempt-1")
    ] * 2
