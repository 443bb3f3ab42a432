"""HTTP views: parse, call the module that knows the rule, reply."""

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from playground.evolink.contract import (
    IDEMPOTENCY_HEADER,
    MAX_FILES_PAGE,
    REPLAYED_HEADER,
    base64_upload,
    read_json,
)

from . import accounts, callbacks, calls, faults, fetch, files, idempotency, links, tasks, validation
from .errors import ApiError, error_response, from_exception


def allow(*methods):
    """Answer other methods with a contract 405, and ApiErrors with their reply."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                message = f"{request.method} is not allowed here; use {' or '.join(methods)}."
                return error_response(request, 405, message, headers={"Allow": ", ".join(methods)})
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return from_exception(request, exc)

        return wrapped

    return decorate


def image_response(data, content_type, file_name, download=False):
    disposition = "attachment" if download else "inline"
    return HttpResponse(
        data,
        content_type=content_type,
        headers={
            "Content-Length": str(len(data)),
            "Content-Disposition": f'{disposition}; filename="{file_name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


@allow("POST")
def create_generation(request):
    body = read_json(request)
    key = idempotency.clean_key(request.headers.get(IDEMPOTENCY_HEADER))
    if key is None:
        task, replayed = new_task(body), False
    else:
        task, replayed = idempotency.create_once(accounts.account(request), key, body, new_task)
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return JsonResponse(tasks.created_reply(task, request.request_id), headers=headers)


def new_task(body):
    task = tasks.create(validation.clean_generation(body))
    if task["callback_url"]:
        callbacks.schedule(task)
    return task


@allow("GET")
def task_detail(request, task_id):
    task = tasks.load(task_id)
    if task is None:
        raise ApiError(404, "No task has this id (unknown or expired).", code="task_not_found")
    return JsonResponse(tasks.reply(task, request.request_id))


@allow("GET")
def credits(request):
    return JsonResponse(tasks.credits_reply())


@allow("GET")
def result_image(request, task_id, index):
    problem = links.check(
        task_id, index, request.GET.get("expires", ""), request.GET.get("signature", "")
    )
    if problem:
        raise ApiError(403, problem[1], code=problem[0])
    task = tasks.load(task_id)
    if task is None or not tasks.has_result(task, index):
        raise ApiError(404, "This task has no such result.")
    return image_response(tasks.result_png(task, index), "image/png", f"{task_id}-{index}.png")


def file_saved(record):
    return JsonResponse(
        {"success": True, "code": 200, "msg": "File uploaded.", "data": files.public(record)}
    )


def either(fields, snake_name, camel_name):
    """A field the files API takes in either spelling (upstream accepts both)."""
    value = fields.get(snake_name) or fields.get(camel_name)
    return value if isinstance(value, str) and value else None


def save_upload(request, data, fallback_name, fields):
    file_name = either(fields, "file_name", "fileName")
    return file_saved(
        files.save(
            data,
            file_name or fallback_name,
            accounts.account(request),
            file_name=file_name,
            upload_path=either(fields, "upload_path", "uploadPath"),
        )
    )


@allow("POST")
def upload_stream(request):
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(400, 'Send the image as the multipart form field "file".', param="file")
    if upload.size > files.MAX_BYTES:
        raise ApiError(413, "The file is larger than 10 MB.", param="file")
    return save_upload(request, upload.read(), upload.name, request.POST)


@allow("POST")
def upload_base64(request):
    body = read_json(request)
    return save_upload(request, base64_upload(body), "upload", body)


@allow("POST")
def upload_url(request):
    body = read_json(request)
    url = validation.clean_url(body.get("file_url") if isinstance(body, dict) else None, "file_url")
    try:
        data = files.read_url(url, files.MAX_BYTES)
    except fetch.TooLarge as exc:
        raise ApiError(413, str(exc), param="file_url") from None
    except fetch.FetchError as exc:
        raise ApiError(400, f"file_url could not be used: {exc}", param="file_url") from None
    return save_upload(request, data, urlsplit(url).path.rsplit("/", 1)[-1], body)


def whole_number(request, name, default, largest):
    raw = request.GET.get(name) or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        raise ApiError(400, f"{name} must be a whole number from 1 to {largest}.", param=name)
    return int(raw)


@allow("GET")
def file_list(request):
    page = whole_number(request, "page", 1, 10**6)
    size_name = "page_size" if "page_size" in request.GET else "pageSize"
    page_size = whole_number(request, size_name, 20, MAX_FILES_PAGE)
    records = files.live_records(accounts.account(request))
    shown = records[(page - 1) * page_size : page * page_size]
    data = {
        "files": [files.public(record) for record in shown],
        "total": len(records),
        "page": page,
        "pageSize": page_size,
    }
    return JsonResponse({"success": True, "code": 200, "msg": "ok", "data": data})


@allow("GET")
def file_quota(request):
    used = len(files.live_records(accounts.account(request)))
    limit = files.max_files()
    data = {
        "user_group": settings.SANDBOX_USER_GROUP,
        "used_files": used,
        "max_files": limit,
        "remain_files": max(0, limit - used),
    }
    return JsonResponse({"success": True, "code": 200, "msg": "ok", "data": data})


@allow("DELETE")
def file_delete(request, file_id):
    if not files.delete(file_id, accounts.account(request)):
        raise ApiError(404, "No file has this id.")
    return JsonResponse(
        {"success": True, "code": 200, "msg": "File deleted.", "data": {"file_id": file_id}}
    )


@allow("GET")
def file_content(request, file_id, extension):
    record = files.load(file_id)
    if record is None or record["extension"] != extension:
        raise ApiError(404, "No file is at this address (unknown, deleted or expired).")
    data = files.content_path(record).read_bytes()
    return image_response(
        data, record["mime_type"], f"{file_id}.{extension}", "download" in request.GET
    )


@allow("GET", "POST", "DELETE")
def fault_switches(request):
    if request.method == "POST":
        return JsonResponse(faults.merge(read_json(request)))
    if request.method == "DELETE":
        return JsonResponse(faults.reset())
    return JsonResponse(faults.current())


@allow("GET", "DELETE")
def served_calls(request):
    """The API calls served lately (GET), or forget them (DELETE)."""
    if request.method == "DELETE":
        calls.forget()
    return JsonResponse({"calls": calls.recorded()})


def not_found(request, exception=None):
    return error_response(request, 404, "Nothing is at this address.")


def bad_request(request, exception=None):
    return error_response(request, 400, "The request could not be read.")


def server_error(request):
    return error_response(request, 500, "The sandbox failed on this request.")
