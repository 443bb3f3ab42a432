"""Bearer-key check and fault injection in front of every API view."""

import secrets
import socket
import time

from django.http import HttpResponse, StreamingHttpResponse

from playground.evolink.contract import REPLAYED_HEADER, REQUEST_ID_HEADERS

from . import calls, faults
from .accounts import has_valid_key
from .errors import error_response

PUBLIC_PREFIXES = ("/results/", "/files/")  # fetched by URL alone, as upstream's links are
RESULT_PREFIX = "/results/"
FAULTY_PREFIXES = ("/v1/", "/api/")  # the API proper; /_sandbox/ is never faulted

BAD_GATEWAY_PAGE = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>
</html>
"""


def fault_response(fault, request):
    if fault is None:
        return None
    if fault[0] == "non_json":
        return HttpResponse(BAD_GATEWAY_PAGE, status=502, content_type="text/html")
    _, status, retry_after = fault
    if status == 429:
        message = f"Too many requests: retry after {retry_after} seconds."
        return error_response(request, 429, message, headers={"Retry-After": str(retry_after)})
    return error_response(request, status, f"The service answered {status} (a sandbox fault).")


def cut_off(request, response):
    """The same reply, its connection dropped half-way through the body: the client
    gets fewer bytes than Content-Length promised, then the connection closes."""
    body = response.content
    cut = StreamingHttpResponse(_half_then_drop(request, body), status=response.status_code)
    for name, value in response.items():
        cut[name] = value
    cut["Content-Length"] = str(len(body))
    cut.dropped = True
    return cut


def _half_then_drop(request, body):
    yield body[: len(body) // 2]
    request.META["sandbox.connection"].shutdown(socket.SHUT_RDWR)


def client_gone(request):
    """Whether the client closed the connection (it died, or gave up) before its reply was
    ready: such a reply never reaches it, so the record counts it as dropped."""
    connection = request.META.get("sandbox.connection")
    if connection is None:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:  # open, and nothing more sent: still waiting for this reply
        return False
    except OSError:  # reset by the client's end
        return True


class SandboxMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.time()
        # Every API reply names its request, as upstream's do; support asks for it.
        request.request_id = "req_" + secrets.token_hex(12)
        response = self.respond(request)
        if request.path.startswith(FAULTY_PREFIXES):
            response[REQUEST_ID_HEADERS[0]] = request.request_id
        if not request.path.startswith("/_sandbox/"):
            dropped = getattr(response, "dropped", False) or client_gone(request)
            replayed = response.get(REPLAYED_HEADER) == "true"
            calls.record(request, started, response.status_code, dropped, replayed)
        return response

    def respond(self, request):
        if request.path.startswith(RESULT_PREFIX):
            delay, drop = faults.take_download_fault()
            time.sleep(delay)
            response = self.get_response(request)
            return cut_off(request, response) if drop else response
        if request.path.startswith(PUBLIC_PREFIXES):
            return self.get_response(request)
        if not has_valid_key(request):
            message = "Missing or invalid API key: send Authorization: Bearer <key>."
            return error_response(request, 401, message)
        if request.path.startswith(FAULTY_PREFIXES):
            delay, fault = faults.take_reply_fault()
            time.sleep(delay)
            if fault == ("drop",):
                return cut_off(request, self.get_response(request))
            response = fault_response(fault, request)
            if response is not None:
                return response
        return self.get_response(request)
