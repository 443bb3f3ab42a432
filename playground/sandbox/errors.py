"""Error replies in the contract's shape, and the task failure codes."""

from django.http import JsonResponse

from playground.evolink.contract import ApiError, failed_task_error, reply_body

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


def error_response(
    request, status, message, param=None, code=None, headers=None, file_code=None, error_type=None
):
    error = ApiError(status, message, param, code, file_code=file_code, error_type=error_type, headers=headers)
    return from_exception(request, error)


def from_exception(request, exc):
    return JsonResponse(reply_body(exc, request.path), status=exc.status, headers=exc.headers)


def failure_error(code):
    return failed_task_error(code, FAILURE_MESSAGES[code])


def cancelled_error(reason):
    return {"code": "request_cancelled", "message": reason, "type": "invalid_request_error"}
