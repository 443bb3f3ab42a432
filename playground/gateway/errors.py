"""Refusals in the vendor's shapes: `{"error": {code, message, type, param?}}` on the API,
`{success: false, code, msg}` (with the error object beside it) on file hosting."""

from django.http import JsonResponse

# For each status, the `type` and default `code` the vendor (and the built-in sandbox) send.
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
    503: ("service_unavailable_error", "service_unavailable"),
}
FILE_API_PREFIX = "/api/"


class ApiError(Exception):
    """Raised below a gateway view to answer with the vendor's error body."""

    def __init__(self, status, message, *, param=None, code=None, file_code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = str(message)
        self.param = param
        self.code = code
        self.file_code = file_code  # file hosting's own number, e.g. 40002 for a type not allowed
        self.headers = headers or {}


def invalid(param, message, code="invalid_parameter"):
    return ApiError(400, message, param=param, code=code)


def not_found(message):
    return ApiError(404, message)


def error_body(error):
    error_type, default_code = ERROR_TYPES.get(error.status, ("api_error", "error"))
    body = {"code": error.code or default_code, "message": error.message, "type": error_type}
    if error.param:
        body["param"] = error.param
    return {"error": body}


def response(request, error):
    body = error_body(error)
    if request.path.startswith(FILE_API_PREFIX):
        # The files API speaks {success, code, msg}; the error object rides along, as the
        # sandbox's does, so a client reading either shape understands the reply.
        body = {"success": False, "code": error.file_code or error.status, "msg": error.message, **body}
    return JsonResponse(body, status=error.status, headers=error.headers)
