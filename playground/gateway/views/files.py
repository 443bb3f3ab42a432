"""File hosting's endpoints, kept as the team's references: an upload answers a `file_url`
(a signed link of this server) that a create takes in `image_urls` or `mask_url`."""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import JsonResponse

from playground.evolink.contract import (
    FILE_TOO_LARGE,
    FILE_TYPE_NOT_ALLOWED,
    FILE_URL_DOWNLOAD_FAILED,
    MAX_REFERENCE_BYTES,
    base64_upload,
    read_json,
)
from playground.generations import images, references

from .. import files, inputs, replies
from ..auth import api
from ..errors import ApiError, not_found, path_id

# A base64 body: the image's 10 MB as text, and room for the JSON around it.
MAX_BASE64_BODY = MAX_REFERENCE_BYTES * 4 // 3 + 64 * 1024
MAX_STREAM_BODY = MAX_REFERENCE_BYTES + 64 * 1024  # the file and the form's few short fields


def either(fields, snake_name, camel_name):
    """A field the files API takes in either spelling (the vendor accepts both)."""
    value = fields.get(snake_name) or fields.get(camel_name)
    return value if isinstance(value, str) and value else ""


def saved(request, token, upload, fields):
    """The upload checked like a page upload and kept as the team's reference."""
    if upload.size > MAX_REFERENCE_BYTES:
        raise too_large("file")
    try:
        checked = images.check_image(upload)
    except ValidationError as error:
        raise ApiError(400, error.messages[0], param="file", file_code=FILE_TYPE_NOT_ALLOWED) from None
    reference = references.store(token.team, token.user, checked)
    if reference.link_deleted_at:  # the same bytes uploaded again after a delete: its link lives again
        reference.link_deleted_at = None
        reference.save(update_fields=["link_deleted_at"])
    return JsonResponse(replies.file_saved(request, reference, upload_path=either(fields, "upload_path", "uploadPath")))


def named(upload, fields, fallback):
    upload.name = either(fields, "file_name", "fileName") or fallback
    return upload


class UploadLimit(FileUploadHandler):
    """First of a request's upload handlers: stops passing a file on once it is past `max_bytes`,
    so the handlers after it (memory, then a temporary file) never hold more than that."""

    def __init__(self, max_bytes):
        super().__init__()
        self.max_bytes = max_bytes
        self.passed = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.passed = True
            raise StopUpload
        return raw_data

    def file_complete(self, file_size):
        return None


def too_large(param):
    return ApiError(413, "The file is larger than 10 MB.", param=param, file_code=FILE_TOO_LARGE)


def declared_length(request):
    length = request.META.get("CONTENT_LENGTH") or ""
    return int(length) if length.isdigit() else 0


@api("POST")
def upload_stream(request, token):
    if declared_length(request) > MAX_STREAM_BODY:
        raise too_large("file")
    limit = UploadLimit(MAX_REFERENCE_BYTES)
    request.upload_handlers.insert(0, limit)
    upload = request.FILES.get("file")
    if limit.passed:
        raise too_large("file")
    if upload is None:
        raise ApiError(400, 'Send the image as the multipart form field "file".', param="file")
    return saved(request, token, named(upload, request.POST, upload.name), request.POST)


@api("POST")
def upload_base64(request, token):
    if declared_length(request) > MAX_BASE64_BODY:
        raise too_large("base64_data")
    request._body = request.read(MAX_BASE64_BODY + 1)  # past Django's in-memory limit for other bodies
    body = read_json(request)
    return saved(request, token, named(ContentFile(base64_upload(body)), body, "upload"), body)


@api("POST")
def upload_url(request, token):
    body = read_json(request)
    url = body.get("file_url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ApiError(400, "file_url must be an http or https URL.", param="file_url")
    try:
        data = inputs.fetch(url, MAX_REFERENCE_BYTES, "file_url")
    except ApiError as error:
        error.file_code = FILE_TOO_LARGE if error.status == 413 else FILE_URL_DOWNLOAD_FAILED
        raise
    return saved(request, token, named(ContentFile(data), body, inputs.name_of(url)), body)


@api("DELETE")
def delete(request, token, file_id):
    if not files.delete(token.team, path_id(file_id, "No file has this id.")):
        raise not_found("No file has this id.")
    return JsonResponse({"success": True, "code": 200, "msg": "File deleted.", "data": {"file_id": file_id}})
