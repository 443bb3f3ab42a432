"""Error replies in the contract's shape, and the task failure codes."""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_parameter"),
    401: ("authentication_error", "invalid_api_key"),
    402: ("insufficient_quota", "insufficient_quota"),
    403: ("permission_error", "access_denied"),
    404: ("not_found_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("api_error", "internal_error"),
    502: ("upstream_error", "bad_gateway"),
    503: ("service_unavailable_error", "service_unavailable"),
}

# The codes a failed task can carry, with the sentence the sandbox reports.
FAILURE_MESSAGES = {
    "content_policy_violation": "The prompt or an image was rejected by the content policy.",
    "invalid_parameters": "The request parameters could not be used for generation.",
    "image_dimension_mismatch": "The mask and the reference image differ in size.",
    "image_processing_error": "A reference image could not be processed.",
    "request_cancelled": "The request was cancelled.",
    "resource_not_found": "A reference image could not be fetched.",
    "generation_timeout": "Generation took too long and was stopped.",
    "quota_exceeded": "The account's quota is exhausted.",
    "resource_exhausted": "The service has no capacity left right now.",
    "generation_failed_no_content": "Generation finished without producing an image.",
    "service_error": "The image service had an internal error.",
    "service_unavailable": "The image service is unavailable right now.",
    "unknown_error": "Generation failed for an unknown reason.",
}
NOT_RETRYABLE = {
    "content_policy_violation",
    "invalid_parameters",
    "image_dimension_mismatch",
    "image_processing_error",
    "request_cancelled",
    "resource_not_found",
}


class ApiError(Exception):
    """Raised anywhere below a view to answer with a contract error."""

    def __init__(self, status, message, param=None, code=None, file_code=None, error_type=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.file_code = file_code  # file hosting's own number for `code`, e.g. 40003
        self.error_type = error_type


def error_body(status, message, param=None, code=None, error_type=None):
    default_type, default_code = ERROR_TYPES.get(status, ("api_error", "error"))
    error = {"code": code or default_code, "message": message, "type": error_type or default_type}
    if param:
        error["param"] = param
    return {"error": error}


def error_response(
    request, status, message, param=None, code=None, headers=None, file_code=None, error_type=None
):
    body = error_body(status, message, param, code, error_type)
    if request.path.startswith("/api/"):
        # File hosting speaks {success, code, msg}; the error object rides along
        # so a client reading either shape understands the reply.
        body = {"success": False, "code": file_code or status, "msg": message, **body}
    return JsonResponse(body, status=status, headers=headers)


def from_exception(request, exc):
    return error_response(
        request,
        exc.status,
        exc.message,
        exc.param,
        exc.code,
        file_code=exc.file_code,
        error_type=exc.error_type,
    )


def failure_error(code):
    if code == "content_policy_violation":
        error_type = "content_policy_violation"
    elif code == "quota_exceeded":
        error_type = "insufficient_quota"
    elif code in NOT_RETRYABLE:
        error_type = "invalid_request_error"
    else:
        error_type = "api_error"
    return {"code": code, "message": FAILURE_MESSAGES[code], "type": error_type}


def cancelled_error(reason):
    return {"code": "request_cancelled", "message": reason, "type": "invalid_request_error"}


def read_json(request):
    """The request body as parsed JSON, or an ApiError the client can act on."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.", code="invalid_json") from None
