"""Facts of the EvoLink GPT-4o Image contract (`evolink-api.md`), shared by the client,
the built-in sandbox and the app's gateway so they can never disagree on them; the last two
also share the vendor's checks of a request and the refusals they send in the vendor's
shapes: `{"error": {code, message, type, param?}}` on the image API, `{success: false, code,
msg}` (with the error object beside it) on file hosting.

CONTRACT.md beside this module says where each fact comes from.
"""

import base64
import binascii
import ipaddress
import json
from urllib.parse import urlsplit

from django.core.exceptions import RequestDataTooBig

MODEL = "gpt-4o-image"
# In the contract's order: three ratios, then their pixel forms.
SIZES = ("1:1", "2:3", "3:2", "1024x1024", "1024x1536", "1536x1024")
PIXELS = {
    "1:1": (1024, 1024),
    "2:3": (1024, 1536),
    "3:2": (1536, 1024),
    "1024x1024": (1024, 1024),
    "1024x1536": (1024, 1536),
    "1536x1024": (1536, 1024),
}
COUNTS = (1, 2, 4)
MAX_REFERENCE_IMAGES = 5
MAX_REFERENCE_BYTES = 10 * 1024 * 1024  # per reference image, as the image API takes it
MAX_MASK_BYTES = 4 * 1024 * 1024
MAX_CALLBACK_URL = 2048
RESULT_LINK_SECONDS = 24 * 3600

# Task statuses; "cancelled" comes from callbacks and the vendor's newer material.
STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
FINISHED_STATUSES = ("completed", "failed", "cancelled")

# Keyed creates (see CONTRACT.md): the vendor's newest client sends one key per create.
IDEMPOTENCY_HEADER = "Idempotency-Key"
RUN_ID_HEADER = "X-Evo-Run-Id"  # the vendor's client sends the key under this name too
IDEMPOTENCY_SECONDS = 24 * 3600
REPLAYED_HEADER = "Idempotent-Replayed"  # the sandbox's answer to a replayed key
# Where a request id comes back, in the order the vendor's client reads them.
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Oneapi-Request-Id")
REQUEST_ID_FIELD = "request_id"

# File hosting: the `code` of a `success: false` reply.
FILE_TOO_LARGE = 40001
FILE_TYPE_NOT_ALLOWED = 40002
FILE_QUOTA_EXCEEDED = 40003
FILE_URL_DOWNLOAD_FAILED = 40004
FILE_STORAGE_ERROR = 50001  # retry after a minute
DEFAULT_MAX_FILES = 100
HIGHER_PLAN_MAX_FILES = 500
HOSTED_FILE_SECONDS = 72 * 3600
MAX_FILES_PAGE = 100

# How a mask marks the area to change: by transparency (the product page) or by
# whiteness (the vendor's client reference). Send masks that read the same both ways.
MASK_READINGS = ("alpha", "white")
MASK_CHANGE_PIXEL = (255, 255, 255, 0)  # transparent and white: change
MASK_KEEP_PIXEL = (0, 0, 0, 255)  # opaque black: keep


def is_internal_host(host):
    """True for a host naming an internal place without DNS: localhost, private or loopback IPs.

    The contract refuses such callback URLs. An IPv4 address carried inside an IPv6 one
    (IPv4-mapped, IPv4-compatible, 6to4, NAT64) is unwrapped first.
    """
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if address.version == 6:
        if address in LOCAL_NAT64:
            return True
        address = _carried_ipv4(address) or address
    return not address.is_global or address.is_multicast


# IPv6 prefixes whose last 32 bits are an IPv4 address: IPv4-compatible, and NAT64's well-known one.
IPV4_CARRIERS = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _carried_ipv4(address):
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if any(address in prefix for prefix in IPV4_CARRIERS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_https_url_problem(url, max_length):
    """What keeps `url` from being a public https:// address, or None when nothing does.

    One of "too_long", "not_https" (also for anything that does not parse as a URL) or
    "internal"; callers turn it into their own sentence.
    """
    if len(url) > max_length:
        return "too_long"
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "not_https"
    if scheme != "https" or not host:
        return "not_https"
    if is_internal_host(host):
        return "internal"
    return None


# Refusals. For each status, the `type` and default `code` the vendor sends.
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
FILE_API_PREFIX = "/api/"
# Failure codes the user must act on (the vendor's client does not retry them).
NOT_RETRYABLE = {
    "content_policy_violation",
    "invalid_parameters",
    "image_dimension_mismatch",
    "image_processing_error",
    "request_cancelled",
    "resource_not_found",
}


class ApiError(Exception):
    """Raised below a view to answer with the vendor's error body."""

    def __init__(
        self, status, message, param=None, code=None, *, file_code=None, error_type=None, headers=None
    ):
        super().__init__(message)
        self.status = status
        self.message = str(message)
        self.param = param
        self.code = code
        self.file_code = file_code  # file hosting's own number, e.g. 40002 for a type not allowed
        self.error_type = error_type
        self.headers = headers or {}


def invalid(param, message, code="invalid_parameter"):
    return ApiError(400, message, param=param, code=code)


def error_body(error):
    default_type, default_code = ERROR_TYPES.get(error.status, ("api_error", "error"))
    body = {"code": error.code or default_code, "message": error.message, "type": error.error_type or default_type}
    if error.param:
        body["param"] = error.param
    return {"error": body}


def reply_body(error, path):
    """The body that answers `error` on a request to `path`."""
    body = error_body(error)
    if path.startswith(FILE_API_PREFIX):
        # File hosting speaks {success, code, msg}; the error object rides along so a
        # client reading either shape understands the reply.
        body = {"success": False, "code": error.file_code or error.status, "msg": error.message, **body}
    return body


def failed_task_error(code, message):
    """The `error` of a failed task, typed as the vendor types its failure codes."""
    if code == "content_policy_violation":
        error_type = "content_policy_violation"
    elif code == "quota_exceeded":
        error_type = "insufficient_quota"
    elif code in NOT_RETRYABLE:
        error_type = "invalid_request_error"
    else:
        error_type = "api_error"
    return {"code": code, "message": message, "type": error_type}


def read_json(request):
    """The request body as parsed JSON, or an ApiError the client can act on."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    try:
        body = json.loads(raw)
        # JSON can spell a lone surrogate ("\ud800"), which no UTF-8 text, nor database, can hold.
        json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, UnicodeError, RecursionError):  # RecursionError: nested past Python's depth
        raise invalid(None, "The request body is not valid JSON.", "invalid_json") from None
    return body


def base64_upload(body):
    """The bytes a base64 upload's body carries in `base64_data` (a data: URL's prefix dropped)."""
    if not isinstance(body, dict) or not isinstance(body.get("base64_data"), str):
        raise invalid("base64_data", "base64_data is required: the image encoded as base64.")
    text = body["base64_data"]
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise invalid("base64_data", "base64_data is not valid base64.") from None


# A create's body, checked alike by the sandbox and the gateway where their rules are one.
def create_fields(body):
    """The create's fields, refused unless the body is a JSON object."""
    if not isinstance(body, dict):
        raise invalid(None, "The request body must be a JSON object.", "invalid_json")
    return body


def clean_model(model):
    if model is None:
        raise invalid("model", "model is required.", "missing_parameter")
    if model != MODEL:
        raise invalid("model", f'model must be "{MODEL}".')
    return model


def prompt_string(prompt):
    """The prompt, present and a string; how long it may be is each server's own rule."""
    if prompt is None:
        raise invalid("prompt", "prompt is required.", "missing_parameter")
    if not isinstance(prompt, str):
        raise invalid("prompt", "prompt must be a string.")
    return prompt


def image_url_list(urls):
    """`image_urls` as a list (empty when absent) of at most MAX_REFERENCE_IMAGES; each URL
    is left to the server's own URL check."""
    if urls is None:
        return []
    if not isinstance(urls, list):
        raise invalid("image_urls", "image_urls must be a list of URLs.")
    if len(urls) > MAX_REFERENCE_IMAGES:
        raise invalid(
            "image_urls", f"image_urls can hold at most {MAX_REFERENCE_IMAGES} images (it has {len(urls)})."
        )
    return urls
