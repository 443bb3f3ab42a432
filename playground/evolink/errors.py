"""Every way an EvoLink call or task can fail, each with a sentence a person can read.

Messages never include the request's headers, so the API key cannot leak through them.
"""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


def _interpolate(message, values):
    return str(message) % values


# Formats when read, so the sentence is rendered in whoever's language reads it.
interpolate_lazy = lazy(_interpolate, str)


class EvoLinkError(Exception):
    """Base error. `retryable` tells whether the same call may succeed later."""

    status = None
    retryable = False
    default_message = _("The image service returned an error.")

    def __init__(self, message=None, *, code="", param="", retry_after=None, detail=""):
        self.message = message or self.default_message  # lazy: rendered in the reader's language
        self.code = code
        self.param = param
        self.retry_after = retry_after
        self.detail = detail  # the vendor's own wording, kept for operators
        super().__init__(str(self.message))


class BadRequest(EvoLinkError):
    status = 400
    default_message = _("The image service rejected the request as invalid.")


class AuthenticationFailed(EvoLinkError):
    status = 401
    default_message = _("The API key was refused: it is invalid or has expired.")


class InsufficientBalance(EvoLinkError):
    status = 402
    default_message = _("The EvoLink account does not have enough credits for this request.")


class AccessDenied(EvoLinkError):
    status = 403
    default_message = _("The API key is not allowed to do this.")


class NotFound(EvoLinkError):
    status = 404
    default_message = _("The image service does not know this task, or it has expired.")


class RequestTooLarge(EvoLinkError):
    status = 413
    default_message = _("The request is too large for the image service.")


class RateLimited(EvoLinkError):
    status = 429
    retryable = True
    default_message = _("The image service is busy (rate limited). Please try again shortly.")


class ServerError(EvoLinkError):
    status = 500
    default_message = _("The image service had an internal error.")


class ServiceUnavailable(EvoLinkError):
    status = 503
    retryable = True
    default_message = _("The image service is temporarily unavailable. Please try again shortly.")


class InvalidResponse(EvoLinkError):
    retryable = True
    default_message = _("The image service sent a reply that could not be read.")


class UpstreamTimeout(EvoLinkError):
    retryable = True
    default_message = _("The image service did not answer in time.")


class ConnectionFailed(EvoLinkError):
    retryable = True
    default_message = _("Could not reach the image service.")


class ConnectionDropped(EvoLinkError):
    """The connection broke after the request was sent: it may have been acted on."""

    retryable = True
    default_message = _("The connection to the image service broke off.")


class TaskUnconfirmed(EvoLinkError):
    """A create request went out and no readable answer came back: the task may exist, and
    be billed. The API cannot look a task up but by its id, so it is never sent again."""

    CODE = "task_unconfirmed"
    default_message = _(
        "The image service's answer to this request was lost or came too late, so it is not known "
        "whether the images were started. It was not sent again, so it cannot be charged twice. "
        "Please try again."
    )


class AddressRefused(EvoLinkError):
    """The service's address is not https, or its name leads into this server's own network."""

    CODE = "address_refused"
    default_message = _(
        "The image service's address leads to an internal network address (or is not https), so "
        "nothing was sent there. An owner can correct the API base URL on the Key page."
    )


class AddressUnusable(EvoLinkError):
    """The service's address is one the HTTP client cannot read (a host spelled 0177.0.0.1, say)."""

    CODE = "address_unusable"
    default_message = _(
        "The image service's address is not one this server can use, so nothing was sent there. "
        "An owner can correct the API base URL on the Key page."
    )


class HostingQuotaFull(EvoLinkError):
    """The account's file hosting keeps as many files as it may: an upload answered code 40003."""

    CODE = "hosting_quota_full"
    default_message = _(
        "The EvoLink account's file hosting is full: no more reference images can be uploaded "
        "until some are deleted."
    )


class HostingQuotaInUse(EvoLinkError):
    """The hosting quota is full and every file in it is needed by a generation still running."""

    CODE = "hosting_quota_in_use"
    default_message = _(
        "The EvoLink account's file hosting is full of reference images that generations still "
        "running need, so this generation's images could not be uploaded. Try again once some of "
        "them have finished."
    )


class TaskFailed(EvoLinkError):
    """A task that the service accepted and later reported as failed."""

    default_message = _("The image service could not generate this image.")


ERRORS_BY_STATUS = {
    400: BadRequest,
    401: AuthenticationFailed,
    402: InsufficientBalance,
    403: AccessDenied,
    404: NotFound,
    413: RequestTooLarge,
    429: RateLimited,
    500: ServerError,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: UpstreamTimeout,
}

# Business error types that deserve their own sentence whatever the status.
MESSAGES_BY_TYPE = {
    "content_policy_violation": _(
        "The prompt or an image was refused by the content policy. Please rephrase it."
    ),
    "model_unavailable": _("The GPT-4o Image model is unavailable right now. Please try later."),
    "insufficient_quota": _("The EvoLink account does not have enough credits for this request."),
}

# Task failure codes: (retryable, sentence).
TASK_FAILURES = {
    "content_policy_violation": (
        False,
        _("The prompt or an image was refused by the content policy. Please rephrase it."),
    ),
    "invalid_parameters": (False, _("The service rejected the request's parameters.")),
    "image_dimension_mismatch": (
        False,
        _("The mask and the reference image must have exactly the same pixel size."),
    ),
    "image_processing_error": (
        False,
        _("A reference image could not be processed. Try another file."),
    ),
    "request_cancelled": (False, _("The task was cancelled.")),
    "resource_not_found": (
        False,
        _("A reference image or mask could not be found; its link may have expired."),
    ),
    "generation_timeout": (True, _("The generation took too long and was stopped. Try again.")),
    "quota_exceeded": (True, _("The account's quota is used up for now. Try again later.")),
    "resource_exhausted": (True, _("The service is out of capacity right now. Try again later.")),
    "generation_failed_no_content": (
        True,
        _("The model produced no image for this prompt. Try again or rephrase it."),
    ),
    "service_error": (True, _("The image service had an internal error. Try again.")),
    "service_unavailable": (True, _("The image service is temporarily unavailable. Try again.")),
    "unknown_error": (True, _("The generation failed for an unknown reason. Try again.")),
}


def error_for_status(status, *, code="", error_type="", param="", detail="", retry_after=None):
    if status in ERRORS_BY_STATUS:
        cls = ERRORS_BY_STATUS[status]
    elif status >= 500:
        cls = ServerError
    else:
        cls = EvoLinkError
    message = MESSAGES_BY_TYPE.get(error_type) or MESSAGES_BY_TYPE.get(code)
    if cls is BadRequest and detail and not message:
        # The vendor's sentence for a 400 names the field; it is the most useful thing to show.
        message = interpolate_lazy(_("The image service rejected the request: %(detail)s"), {"detail": detail})
    return cls(message, code=code or error_type, param=param, detail=detail, retry_after=retry_after)


def task_failure(code, detail=""):
    retryable, message = TASK_FAILURES.get(code, TASK_FAILURES["unknown_error"])
    error = TaskFailed(message, code=code or "unknown_error", detail=detail)
    error.retryable = retryable
    return error


def task_cancelled(code="request_cancelled", reason=""):
    """A task the service ended `cancelled`, with its reason in words when it gave one."""
    message = TASK_FAILURES["request_cancelled"][1]
    if reason:
        message = interpolate_lazy(_("The task was cancelled: %(reason)s"), {"reason": reason})
    return TaskFailed(message, code=code or "request_cancelled", detail=reason)
