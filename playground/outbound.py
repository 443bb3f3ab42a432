"""HTTP to addresses someone else chose, without becoming a way into private networks.

Result links, the sandbox's URL uploads and callbacks, and a team's own API base URL all
go through `GuardedTransport`, which checks every request and every redirect hop:

- https:// only, except to a trusted origin (the built-in sandbox's, or an upstream the operator
  configured: see `playground.generations.ingest.result_links`), which is a scheme, host and
  port together and is connected to as it is;
- the host's addresses are checked after DNS resolution, when the connection is made: if any
  is internal (private, loopback, link-local, unique-local, multicast, unspecified, also
  inside IPv6) nothing is sent. The connection goes to the very address that was checked, so
  a name cannot change its answer in between; TLS is still verified for the name.

`allow_private` (the sandbox's SANDBOX_ALLOW_PRIVATE_URLS, for local development) lifts both.
"""

import contextlib
import socket
import time

import httpcore
import httpx

from playground.evolink.contract import is_internal_host

MAX_REDIRECTS = 3
DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(Exception):
    """A place this server will not open: not https, internal, or too many redirects away."""


class InternalAddress(Refused):
    """A host that resolves to this machine or its network."""


class TooLarge(Exception):
    def __init__(self, max_bytes):
        super().__init__(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
        self.max_bytes = max_bytes


def origin(url):
    """(scheme, host, port) of a URL, the host as it is connected to and the port filled in."""
    url = httpx.URL(url)
    return url.scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS.get(url.scheme)


def public_address(host, port):
    """The addresses `host` resolves to, all of them public, else Refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise httpcore.ConnectError(f"The host {host} could not be resolved.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or any(is_internal_host(address) for address in addresses):
        raise InternalAddress(f"The host {host} is an internal address.")
    return addresses


class CheckedNetwork(httpcore.SyncBackend):
    """Connects to a host's checked public addresses only."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        failure = None
        for address in public_address(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure


class DeadlineNetwork(httpcore.NetworkBackend):
    """Connections whose every read and write ends by one deadline, `seconds` from now: a peer
    that sends a byte now and then cannot hold a request past it, whatever each read's timeout."""

    def __init__(self, network, seconds):
        self.network = network
        self.deadline = time.monotonic() + seconds

    def left(self, timeout):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("The deadline for this exchange has passed.")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self.network.connect_tcp(host, port, self.left(timeout), local_address, socket_options)
        return DeadlineStream(stream, self)

    def sleep(self, seconds):
        self.network.sleep(seconds)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream, network):
        self.stream = stream
        self.network = network

    def read(self, max_bytes, timeout=None):
        return self.stream.read(max_bytes, self.network.left(timeout))

    def write(self, buffer, timeout=None):
        self.stream.write(buffer, self.network.left(timeout))

    def close(self):
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        stream = self.stream.start_tls(ssl_context, server_hostname, self.network.left(timeout))
        return DeadlineStream(stream, self.network)

    def get_extra_info(self, info):
        return self.stream.get_extra_info(info)


class GuardedTransport(httpx.BaseTransport):
    """httpx's own transport, but over an httpcore pool that connects through `CheckedNetwork`
    (httpx.HTTPTransport takes no network backend).

    A request to a trusted origin goes through a pool of its own that connects as it is: the
    origin is its scheme, host and port together, so `https://` at a trusted `http://`
    origin's host and port is checked like any other address (the network backend sees only
    a host and a port).
    """

    def __init__(self, *, trusted=(), allow_private=False, deadline=None):
        self.trusted = {origin(url) for url in trusted}
        self.allow_private = allow_private
        tls = httpx.create_ssl_context()  # costs milliseconds: one for both pools

        def network(checked):
            plain = CheckedNetwork() if checked else httpcore.SyncBackend()
            return plain if deadline is None else DeadlineNetwork(plain, deadline)

        self.pool = connection_pool(network(checked=not allow_private), tls)
        self.trusted_pool = connection_pool(network(checked=False), tls) if self.trusted and not allow_private else self.pool

    def handle_request(self, request):
        url = request.url
        trusted = origin(url) in self.trusted
        if not (self.allow_private or url.scheme == "https" or trusted):
            raise Refused(f"Only https URLs can be used, not {url.scheme}.")
        if not 0 < origin(url)[2] < 65536:
            raise Refused("The URL's port is not a port.")
        pool = self.trusted_pool if trusted else self.pool
        with httpx_errors():
            response = pool.handle_request(as_httpcore(request))
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self):
        self.pool.close()
        self.trusted_pool.close()


def connection_pool(network, ssl_context):
    """An httpcore pool with httpx.HTTPTransport's defaults, connecting through `network`
    (None: straight to the host)."""
    limits = httpx.Limits()
    return httpcore.ConnectionPool(
        ssl_context=ssl_context,
        network_backend=network,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
    )


def as_httpcore(request):
    url = request.url
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


class ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream):
        self.stream = stream

    def __iter__(self):
        with httpx_errors():
            yield from self.stream

    def close(self):
        self.stream.close()


@contextlib.contextmanager
def httpx_errors():
    """httpcore's errors raised as httpx's of the same name, as httpx's own transport does."""
    try:
        yield
    except Exception as exc:
        same_name = next(
            (
                getattr(httpx, cls.__name__)
                for cls in type(exc).__mro__
                if cls.__module__ == "httpcore" and hasattr(httpx, cls.__name__)
            ),
            None,
        )
        if same_name is None:
            raise
        raise same_name(str(exc)) from exc


def client(*, trusted=(), allow_private=False, timeout=10.0, deadline=None):
    """An httpx client whose every request and redirect hop is guarded; MAX_REDIRECTS at most.
    With a `deadline`, all it sends and reads ends within that many seconds of now."""
    return httpx.Client(
        transport=GuardedTransport(trusted=trusted, allow_private=allow_private, deadline=deadline),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        # A proxy from the environment would be connected to instead of the checked address.
        trust_env=False,
        # The limit counts bytes as they arrive: nothing is decompressed.
        headers={"Accept-Encoding": "identity"},
    )


def download(http, url, max_bytes):
    """(status, body) of GET `url` through a `client()`; the body only for a 2xx, at most `max_bytes`."""
    try:
        with http.stream("GET", url) as response:
            if not response.is_success:
                return response.status_code, b""
            return response.status_code, read_limited(response, max_bytes)
    except httpx.TooManyRedirects:
        raise Refused(f"The URL redirected more than {MAX_REDIRECTS} times.") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise Refused("The URL is not a well-formed http or https URL.") from None


def read_limited(response, max_bytes):
    """The body, refused at once if it says it is over `max_bytes`, else as soon as it gets there."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(max_bytes)
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge(max_bytes)
    return bytes(body)
