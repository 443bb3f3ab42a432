"""The EvoLink GPT-4o Image API, as `evolink-api.md` describes it.

Knows the contract and nothing of Django views or models: the real service and the
built-in sandbox are both reached through this one class.
"""

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import httpx

from playground import outbound

from . import errors, retries
from .contract import (
    FILE_QUOTA_EXCEEDED,
    IDEMPOTENCY_HEADER,
    MODEL,
    REQUEST_ID_FIELD,
    REQUEST_ID_HEADERS,
    RUN_ID_HEADER,
)

REQUEST_ID_LENGTH = 200  # what the generation keeps of one
TASK_ID_LENGTH = 100  # the longest task id a generation keeps; a longer one is no usable id
# The most credits one task is believed to cost; a figure outside 0..MOST_CREDITS (or not a
# finite number) is ignored, and the reservation stands in for it.
MOST_CREDITS = Decimal(10**8 - 1)
SECONDS_IN_A_DAY = 24 * 3600  # a task's estimate past this is no estimate (tasks end within a day)
# Failures that happen before the request leaves: safe to send again, even a POST.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class Task:
    id: str
    status: str
    progress: int = 0
    results: list = field(default_factory=list)
    estimated_time: int | None = None
    credits_reserved: Decimal | None = None
    # On a finished task, when the service says so: what it charged (see CONTRACT.md).
    credits_used: Decimal | None = None
    error: errors.TaskFailed | None = None
    request_id: str = ""  # the reply's, from its `request_id` field or header; support asks for it

    @classmethod
    def from_reply(cls, data):
        task_info = _mapping(data.get("task_info"))
        usage = _mapping(data.get("usage"))
        return cls(
            id=_task_id(data.get("id")),
            status=data["status"] if isinstance(data.get("status"), str) and data["status"] else "pending",
            progress=_clamp_progress(data.get("progress")),
            results=_result_urls(data),
            estimated_time=_int_or_none(task_info.get("estimated_time")),
            credits_reserved=_credits_reserved(usage.get("credits_reserved")),
            credits_used=_credits_used(usage.get("credits_used")),
            error=_task_error(data),
            request_id=_printable_id(data.get(REQUEST_ID_FIELD)),
        )


@dataclass
class Credits:
    remaining: Decimal
    used: Decimal
    unlimited: bool = False


@dataclass
class HostedFile:
    file_id: str
    file_url: str
    expires_at: str = ""
    uploaded_at: str = ""


def new_idempotency_key():
    """A key for one create, shaped as the vendor's own client makes them."""
    return f"run_{uuid.uuid4()}"


def create_body(prompt, *, size=None, n=None, image_urls=None, mask_url=None, callback_url=None):
    """The JSON body of a create: the model and prompt, and the options that are set."""
    body = {"model": MODEL, "prompt": prompt}
    optional = {
        "size": size,
        "n": n,
        "image_urls": list(image_urls or []) or None,
        "mask_url": mask_url,
        "callback_url": callback_url,
    }
    body.update({key: value for key, value in optional.items() if value})
    return body


def body_fingerprint(body):
    """A digest of a create's body that two equal bodies share, whatever their key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class FileQuota:
    used: int
    max: int
    remaining: int
    user_group: str = ""

    @property
    def full(self):
        return self.remaining <= 0


class EvoLinkClient:
    def __init__(
        self,
        base_url,
        api_key,
        *,
        files_base_url=None,
        timeout=30.0,
        max_retries=3,
        backoff=0.5,
        transport=None,
        sleep=time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.files_base_url = (files_base_url or base_url).rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    def close(self):
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the API ---------------------------------------------------------------

    def create_generation(
        self,
        prompt,
        *,
        size=None,
        n=None,
        image_urls=None,
        mask_url=None,
        callback_url=None,
        idempotency_key=None,
    ):
        """Start a task; see `create_task`."""
        body = create_body(
            prompt, size=size, n=n, image_urls=image_urls, mask_url=mask_url, callback_url=callback_url
        )
        return self.create_task(body, idempotency_key=idempotency_key)

    def create_task(self, body, *, idempotency_key=None):
        """Start a task from a `create_body`. Every create carries an Idempotency-Key (and the
        same value as X-Evo-Run-Id, as the vendor's client sends it), the same on each of this
        call's retries (after a 429, 502 or 503): pass the generation attempt's own key, or
        one is made for this call alone."""
        key = idempotency_key or new_idempotency_key()
        headers = {IDEMPOTENCY_HEADER: key, RUN_ID_HEADER: key}
        try:
            url = f"{self.base_url}/v1/images/generations"
            task = _task(self._call("POST", url, json=body, headers=headers))
        except retries.UNANSWERED as error:
            raise errors.TaskUnconfirmed(code=errors.TaskUnconfirmed.CODE, detail=error.detail) from None
        if not task.id:
            raise errors.TaskUnconfirmed(code=errors.TaskUnconfirmed.CODE, detail="reply without a task id")
        return task

    def get_task(self, task_id):
        return _task(self._call("GET", f"{self.base_url}/v1/tasks/{quote(task_id, safe='')}"))

    def get_credits(self):
        data = self._call("GET", f"{self.base_url}/v1/credits").get("data") or {}
        account = data.get("user") or data.get("token") or {}
        return Credits(
            remaining=Decimal(str(account.get("remaining_credits", 0))),
            used=Decimal(str(account.get("used_credits", 0))),
            unlimited=bool(account.get("unlimited_credits", False)),
        )

    def upload_file(self, fileobj, filename, content_type):
        data = self._call(
            "POST",
            f"{self.files_base_url}/api/v1/files/upload/stream",
            files={"file": (filename, fileobj, content_type)},
        )
        if not data.get("success", True):
            raise errors.BadRequest(detail=str(data.get("msg", "")), code=str(data.get("code", "")))
        hosted = data.get("data") or {}
        if not hosted.get("file_url"):
            raise errors.InvalidResponse()
        return HostedFile(
            file_id=str(hosted.get("file_id", "")),
            file_url=hosted["file_url"],
            expires_at=str(hosted.get("expires_at", "")),
        )

    def file_quota(self):
        """How many files the account's file hosting keeps, and may keep (CONTRACT.md)."""
        data = self._call("GET", f"{self.files_base_url}/api/v1/files/quota").get("data") or {}
        try:
            used, most = int(data["used_files"]), int(data["max_files"])
            remaining = int(data.get("remain_files", most - used))
        except (KeyError, TypeError, ValueError):
            raise errors.InvalidResponse(detail="quota reply of an unexpected shape") from None
        return FileQuota(used, most, remaining, str(data.get("user_group") or ""))

    def list_files(self, page=1, page_size=100):
        """One page of the account's hosted files (HostedFile each) and how many it holds in all."""
        url = f"{self.files_base_url}/api/v1/files/list"
        data = self._call("GET", url, params={"page": page, "pageSize": page_size}).get("data") or {}
        try:
            files = [
                HostedFile(
                    file_id=str(item["file_id"]),
                    file_url=str(item["file_url"]),
                    expires_at=str(item.get("expires_at") or ""),
                    uploaded_at=str(item.get("upload_time") or ""),
                )
                for item in data.get("files") or []
            ]
            return files, int(data.get("total", len(files)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise errors.InvalidResponse(detail="file list reply of an unexpected shape") from None

    def delete_file(self, file_id):
        """Delete one hosted file, freeing its place in the quota; NotFound when it is gone already."""
        self._call("DELETE", f"{self.files_base_url}/api/v1/files/{quote(file_id, safe='')}")

    # -- transport -------------------------------------------------------------

    def _call(self, method, url, **kwargs):
        """Send one request, retrying what `retries` says is worth retrying."""
        retrying = retries.policy(method, max_retries=self.max_retries, backoff=self.backoff, sleep=self._sleep)
        return retrying(self._send, method, url, **kwargs)

    def _send(self, method, url, **kwargs):
        if "files" in kwargs:
            # A stream may have been read by an earlier attempt.
            for _name, (_filename, fileobj, _type) in kwargs["files"].items():
                if hasattr(fileobj, "seek"):
                    fileobj.seek(0)
        try:
            response = self._http.request(method, url, **kwargs)
        except outbound.Refused:  # a guarded transport's (see client_from); nothing was sent
            raise errors.AddressRefused(code=errors.AddressRefused.CODE) from None
        except NOT_SENT as exc:
            raise errors.ConnectionFailed(detail=type(exc).__name__) from None
        except httpx.TimeoutException as exc:
            raise errors.UpstreamTimeout(detail=type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise errors.ConnectionDropped(detail=type(exc).__name__) from None
        data = _decode(response)
        header = next(filter(None, map(response.headers.get, REQUEST_ID_HEADERS)), None)
        if header and not data.get(REQUEST_ID_FIELD):
            data[REQUEST_ID_FIELD] = header  # one place to read it, whichever way it came
        return data


def _task(data):
    try:
        return Task.from_reply(data)
    except (TypeError, ValueError, ArithmeticError, AttributeError):
        raise errors.InvalidResponse(detail="task reply of an unexpected shape") from None


def _decode(response):
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("success") is False and str(data.get("code")) == str(FILE_QUOTA_EXCEEDED):
        # File hosting's own shape, whatever the HTTP status (CONTRACT.md).
        raise errors.HostingQuotaFull(code=errors.HostingQuotaFull.CODE, detail=str(data.get("msg") or ""))
    if response.is_success:
        if not isinstance(data, dict):
            raise errors.InvalidResponse(detail=f"HTTP {response.status_code}, not JSON")
        return data
    error = (data or {}).get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    return_error = errors.error_for_status(
        response.status_code,
        code=str(error.get("code") or ""),
        error_type=str(error.get("type") or ""),
        param=str(error.get("param") or ""),
        detail=str(error.get("message") or ""),
        retry_after=_retry_after(response),
    )
    if data is None and response.status_code not in errors.ERRORS_BY_STATUS:
        return_error = errors.InvalidResponse(detail=f"HTTP {response.status_code}, not JSON")
    raise return_error


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _result_urls(data):
    """The result links: `results` (a list, or one link), else `result_data[].image_url`.
    Only non-empty strings count; anything else in their place is left out."""
    results = data.get("results")
    urls = _strings([results] if isinstance(results, str) else _list(results))
    if not urls:
        urls = _strings(item.get("image_url") for item in _list(data.get("result_data")) if isinstance(item, dict))
    return urls


def _strings(values):
    return [value for value in values if isinstance(value, str) and value]


def _list(value):
    return value if isinstance(value, list) else []


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _printable_id(value):
    """A request id as kept and shown: a string or a number, printable characters only, at
    most REQUEST_ID_LENGTH of them; else ""."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    return "".join(character for character in str(value) if character.isprintable()).strip()[:REQUEST_ID_LENGTH]


def _task_id(value):
    """The task's id as it is asked about again; "" when there is none fit to keep."""
    task_id = _printable_id(value)
    return task_id if len(task_id) <= TASK_ID_LENGTH and task_id == str(value) else ""


def _task_error(data):
    if data.get("status") not in ("failed", "cancelled"):
        return None
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    detail = str(error.get("message") or "")
    if data.get("status") == "cancelled":
        return errors.task_cancelled(str(error.get("code") or "request_cancelled"), reason=detail)
    return errors.task_failure(str(error.get("code") or ""), detail=detail)


def _clamp_progress(value):
    try:
        return max(0, min(100, int(value)))
    except (TypeError, ValueError, OverflowError):
        return 0


def _credits_used(value):
    """What the service says a finished task cost, or None when it is missing or not a
    believable charge: not a number, not finite, below 0 or above MOST_CREDITS. Stored, such
    a figure would fail every poll, or lower the month's spending; the reservation stands in."""
    amount = _number(value)
    return amount if amount is not None and amount.is_finite() and 0 <= amount <= MOST_CREDITS else None


def _credits_reserved(value):
    """The task's reservation: like `_credits_used`, but a figure that is no number at all
    (text, a list) makes the reply one of an unexpected shape."""
    if value is not None and _number(value) is None:
        raise ValueError(f"credits_reserved is not a number: {value!r}")
    return _credits_used(value)


def _number(value):
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _int_or_none(value):
    """A count of seconds from the service, or None when it is not one (or past a day)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number <= SECONDS_IN_A_DAY else None
