"""Downloads of result links and of any URL someone gives, and calls to a team's own base URL,
never lead into this server's own network, and never read more than the limit.

A resolver stands in for DNS (a public-looking name answers what each test says), and a
connection to anything but loopback is recorded and refused: no test reaches the network.
"""

import io
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from playground import outbound
from playground.generations import ingest
from playground.generations.models import Generation, Status
from playground.sandbox import fetch as sandbox_fetch

from .accounting import assert_every_generation_accounted_for
from .conftest import drive, make_generation
from .storage import generation_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox"), pytest.mark.engines]  # stored files

HTMX = {"HX-Request": "true"}
REFUSED_LINK = "The service sent a result link this server will not open."
INTERNAL = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
]
PUBLIC_ADDRESS = "93.184.216.34"


def png():
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def net(monkeypatch):
    """`net.answers[name] = [addresses]` is what DNS says for a name; `net.asked` the names
    looked up; `net.connections` the non-loopback (address, port)s connected to (all refused)."""
    state = SimpleNamespace(answers={}, asked=[], connections=[])
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in state.answers:
            return real_getaddrinfo(host, port, *args, **kwargs)
        state.asked.append(host)
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in state.answers[host]
        ]

    def create_connection(address, *args, **kwargs):
        if address[0] in ("127.0.0.1", "::1", "localhost"):
            return real_connect(address, *args, **kwargs)
        state.connections.append(address)
        raise ConnectionRefusedError(f"no network in tests: {address}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return state


@pytest.fixture
def cdn():
    """A loopback server standing in for a file host. Paths: /image.png, /hop/N (N redirects,
    then the image), /to?URL (a redirect there), /gone (410), /page.html, /endless (an image
    that never ends), /huge (declares 10 GB, sends 1 KB, then waits)."""
    image = png()
    state = SimpleNamespace(paths=[], served=0, url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.paths.append(self.path)
            path, _, query = self.path.partition("?")
            if path.startswith("/hop/"):
                left = int(path.removeprefix("/hop/"))
                return self.answer(200, image) if not left else self.redirect(f"/hop/{left - 1}")
            if path == "/to":
                return self.redirect(query)
            if path == "/image.png":
                return self.answer(200, image)
            if path == "/gone":
                return self.answer(410, b"")
            if path == "/page.html":
                return self.answer(200, b"<html><body>Not here</body></html>", "text/html")
            if path == "/endless":
                return self.endless(image)
            if path == "/huge":
                return self.huge(image)
            return self.answer(404, b"")

        def answer(self, status, body, content_type="image/png"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, location):
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def endless(self, start):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()  # no length: the body runs until the connection closes
            chunk = start[:1024].ljust(16 * 1024, b"\0")
            try:
                while True:
                    self.wfile.write(chunk)
                    state.served += len(chunk)
                    time.sleep(0.001)
            except OSError:
                pass  # the reader hung up

        def huge(self, start):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(10 * 1024**3))
            self.end_headers()
            self.wfile.write(start[:1024])
            self.wfile.flush()
            time.sleep(20)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def from_cdn(cdn, team, owner, settings):
    """A generation whose task went to the built-in sandbox (played by the cdn), whose one
    result link is cdn.url + path; its download is run, and the generation returned."""
    settings.SANDBOX_URL = cdn.url  # plain http on loopback: allowed for the sandbox's own links only

    def download(path_or_url):
        url = path_or_url if "://" in path_or_url else cdn.url + path_or_url
        generation = make_generation(
            team,
            owner,
            status=Status.INGESTING,
            task_id="task-guarded",
            result_urls=[url],
            credits_reserved=Decimal("1.5"),
            upstream_completed_at=timezone.now(),
        )
        assert ingest.ingest(generation.pk)
        generation.refresh_from_db()
        return generation

    return download


def guarded_get(url, **policy):
    with outbound.client(**policy) as http:
        return outbound.download(http, url, 1024 * 1024)


# -- the address rules ---------------------------------------------------------------------


@pytest.mark.parametrize("address", INTERNAL)
def test_a_public_looking_name_that_resolves_inside_is_never_connected_to(net, address):
    net.answers["cdn.example.com"] = [address]
    with pytest.raises(outbound.Refused):
        guarded_get("https://cdn.example.com/a.png")
    assert net.asked == ["cdn.example.com"]  # checked after DNS...
    assert net.connections == []  # ...and refused before any connection


def test_one_internal_address_among_public_ones_is_enough_to_refuse(net):
    net.answers["cdn.example.com"] = [PUBLIC_ADDRESS, "10.0.0.1"]
    with pytest.raises(outbound.Refused):
        guarded_get("https://cdn.example.com/a.png")
    assert net.connections == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/a.png",
        "https://2130706433/a.png",  # 127.0.0.1 as one decimal number
        "https://0x7f.1/a.png",
        "https://127.1/a.png",
        "https://0177.0.0.1/a.png",
        "https://[::ffff:7f00:1]/a.png",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/a.png",
    ],
)
def test_odd_spellings_of_internal_addresses_are_refused(net, url):
    with pytest.raises(outbound.Refused):
        guarded_get(url)
    assert net.connections == []


@pytest.mark.parametrize("url", ["http://cdn.example.com/a.png", "ftp://cdn.example.com/a.png", "https://x:99999/"])
def test_anything_but_a_well_formed_https_url_is_refused_before_dns(net, url):
    net.answers["cdn.example.com"] = [PUBLIC_ADDRESS]
    with pytest.raises(outbound.Refused):
        guarded_get(url)
    assert net.asked == [] and net.connections == []


def test_the_connection_goes_to_the_address_that_was_checked(net):
    net.answers["cdn.example.com"] = [PUBLIC_ADDRESS]
    with pytest.raises(httpx.ConnectError):
        guarded_get("https://cdn.example.com:8443/a.png")
    # Resolved once, and connected to the checked address, not to the name (resolved again,
    # it could answer differently): TLS is still verified for the name.
    assert net.asked == ["cdn.example.com"]
    assert net.connections == [(PUBLIC_ADDRESS, 8443)]


# -- result links --------------------------------------------------------------------------


def test_a_result_link_that_resolves_inside_fails_the_generation_unfetched(net, team, owner, settings):
    team.set_api_key("sk-evo-somewhere-else")
    team.api_base_url = "https://api.example.com"
    team.save()
    net.answers["results.example.com"] = ["169.254.169.254"]
    generation = make_generation(
        team, owner, status=Status.INGESTING, task_id="task-1", result_urls=["https://results.example.com/0.png"],
        credits_reserved=Decimal("1.5"), upstream_completed_at=timezone.now(),
    )
    assert ingest.ingest(generation.pk)
    generation.refresh_from_db()
    assert (generation.status, generation.error_message) == (Status.FAILED, REFUSED_LINK)
    assert net.connections == [] and generation_files(generation) == []
    assert_every_generation_accounted_for([generation])


def test_redirects_are_followed_up_to_three_hops(cdn, from_cdn):
    generation = from_cdn("/hop/3")
    assert generation.status == Status.COMPLETED, generation.error_message
    assert generation.images.count() == 1 and len(generation_files(generation)) == 2
    assert cdn.paths == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]
    assert_every_generation_accounted_for([generation])


def test_a_fourth_redirect_is_refused(cdn, from_cdn):
    generation = from_cdn("/hop/4")
    assert (generation.status, generation.error_message) == (Status.FAILED, REFUSED_LINK)
    assert "/hop/0" not in cdn.paths and generation_files(generation) == []
    assert_every_generation_accounted_for([generation])


@pytest.fixture
def inside():
    """Another loopback server: a place inside that no link may lead to."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", port=server.server_port, hits=hits)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "target",
    [
        "{inside}/latest/meta-data/",  # another port on loopback: not the sandbox's own address
        "https://127.0.0.1:{port}/",
        "https://metadata.example.com/latest/meta-data/",  # resolves to 169.254.169.254
        "http://images.example.com/a.png",  # public, but plain http
    ],
)
def test_a_redirect_to_an_internal_address_or_to_plain_http_is_refused(net, cdn, from_cdn, inside, target):
    net.answers["metadata.example.com"] = ["169.254.169.254"]
    net.answers["images.example.com"] = [PUBLIC_ADDRESS]
    generation = from_cdn("/to?" + target.format(inside=inside.url, port=inside.port))
    assert (generation.status, generation.error_message) == (Status.FAILED, REFUSED_LINK)
    assert inside.hits == [] and net.connections == []
    assert generation_files(generation) == []
    assert_every_generation_accounted_for([generation])


def test_an_endless_download_stops_at_the_limit(cdn, from_cdn, settings):
    settings.RESULT_MAX_BYTES = 256 * 1024
    generation = from_cdn("/endless")
    assert generation.status == Status.FAILED
    assert generation.error_message == "The service returned a file larger than this server accepts."
    assert generation_files(generation) == []
    time.sleep(0.5)  # the server notices the hang-up on its next writes
    stopped_at = cdn.served
    time.sleep(0.3)
    assert cdn.served == stopped_at, "the download was not cut off"
    assert stopped_at < 16 * settings.RESULT_MAX_BYTES  # the limit plus what socket buffers held
    assert_every_generation_accounted_for([generation])


def test_a_declared_length_over_the_limit_is_refused_without_reading(cdn, from_cdn, settings):
    settings.RESULT_MAX_BYTES = 256 * 1024
    settings.EVOLINK_TIMEOUT = 60  # reading the body would wait out the server's 20 s pause
    started = time.monotonic()
    generation = from_cdn("/huge")
    assert time.monotonic() - started < 15, "it waited for the body"
    assert generation.status == Status.FAILED
    assert generation.error_message == "The service returned a file larger than this server accepts."
    assert generation_files(generation) == []
    assert_every_generation_accounted_for([generation])


def test_reading_stops_with_the_first_chunk_past_the_limit():
    chunks_read = []

    def endless():
        while True:
            chunks_read.append(1)
            yield b"x" * 1000

    response = httpx.Response(200, stream=httpx.ByteStream(b""))
    response.iter_raw = lambda: endless()
    with pytest.raises(outbound.TooLarge):
        outbound.read_limited(response, 10_000)
    assert len(chunks_read) == 11


def test_an_expired_link_ends_the_generation_expired_with_nothing_stored(from_cdn):
    generation = from_cdn("/gone")
    assert generation.status == Status.EXPIRED
    assert generation.error_message == "The result links expired before the images could be saved."
    assert generation_files(generation) == []
    assert_every_generation_accounted_for([generation])


def test_a_file_that_is_not_an_image_fails_the_generation_with_nothing_stored(from_cdn):
    generation = from_cdn("/page.html")
    assert generation.status == Status.FAILED
    assert generation.error_message == "The service returned a file that is not a valid image."
    assert generation_files(generation) == []
    assert_every_generation_accounted_for([generation])


def test_plain_http_links_are_fetched_only_from_the_sandbox_the_task_went_to(cdn, from_cdn, settings):
    generation = from_cdn(cdn.url.replace("127.0.0.1", "localhost") + "/image.png")  # same server, other origin
    assert (generation.status, generation.error_message) == (Status.FAILED, REFUSED_LINK)
    assert cdn.paths == []


# -- URLs given to the sandbox ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/cat.png",
        "https://0x7f.1/cat.png",
        "https://[::ffff:127.0.0.1]/cat.png",
        "https://169.254.169.254/latest/meta-data/",
        "http://example.com/cat.png",  # plain http: refused before anything is looked up
    ],
)
def test_the_sandbox_refuses_to_upload_from_inside_or_over_plain_http(sandbox, url):
    reply = httpx.post(f"{sandbox.url}/api/v1/files/upload/url", json={"file_url": url}, headers=sandbox.headers)
    assert reply.status_code == 400 and reply.json()["success"] is False


def test_the_sandbox_checks_names_after_dns_and_each_redirect(net, cdn, settings):
    settings.SANDBOX_ALLOW_PRIVATE_URLS = False
    net.answers["files.example.com"] = ["10.0.0.1"]
    with pytest.raises(sandbox_fetch.FetchError, match="internal"):
        sandbox_fetch.fetch("https://files.example.com/cat.png", 1024 * 1024)
    with pytest.raises(sandbox_fetch.FetchError, match="internal"):
        sandbox_fetch.post_json("https://files.example.com/hook", {"id": "task-1"})
    assert net.connections == []

    settings.SANDBOX_ALLOW_PRIVATE_URLS = True  # local development: loopback servers are fine
    assert sandbox_fetch.fetch(cdn.url + "/hop/3", 1024 * 1024) == png()
    with pytest.raises(sandbox_fetch.FetchError, match="redirected more than 3"):
        sandbox_fetch.fetch(cdn.url + "/hop/4", 1024 * 1024)
    with pytest.raises(sandbox_fetch.TooLarge):
        sandbox_fetch.fetch(cdn.url + "/endless", 64 * 1024)


# -- a team's own base URL -------------------------------------------------------------------


@pytest.fixture
def team_on_own_address(team):
    team.set_api_key("sk-evo-team-own-key-1234")
    team.api_base_url = "https://evolink.example.net"
    team.save()
    return team


@pytest.mark.django_db(transaction=True)  # its generation is sent when the transaction commits
def test_a_team_base_url_that_resolves_inside_is_never_sent_the_key(net, owner_client, team_on_own_address):
    net.answers["evolink.example.net"] = ["169.254.169.254"]
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "leads to an internal network address" in fragment
    assert net.asked == ["evolink.example.net"] and net.connections == []

    owner_client.post(reverse("studio:generate"), {"prompt": "a kite", "size": "1:1", "n": 1})
    generation = drive(Generation.objects.get(team=team_on_own_address))
    assert generation.status == Status.FAILED and "internal network address" in generation.error_message
    assert net.connections == []
    assert_every_generation_accounted_for([generation])


def test_a_team_base_url_is_reached_at_the_address_that_was_checked(
    net, owner_client, team_on_own_address, settings
):
    settings.EVOLINK_MAX_RETRIES = 0
    net.answers["evolink.example.net"] = [PUBLIC_ADDRESS]
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "Could not reach the image service." in fragment
    assert set(net.connections) == {(PUBLIC_ADDRESS, 443)}


def test_the_deployments_configured_address_is_reached_even_on_loopback(
    owner_client, team, keyed_sandbox, settings
):
    settings.EVOLINK_BASE_URL = keyed_sandbox.url  # an operator's choice, e.g. an internal gateway
    team.set_api_key(keyed_sandbox.api_key)
    team.save()
    fragment = owner_client.post(reverse("studio:test-key"), **HTMX).content.decode()
    assert "Tested the team's key at" in fragment and "It works:" in fragment


def test_a_read_timeout_inside_the_pool_is_httpxs_read_timeout():
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    try:
        with httpx.Client(transport=outbound.GuardedTransport(trusted=[url]), timeout=0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                client.get(url)
    finally:
        silent.close()



@pytest.mark.parametrize("trusted", ["http://gateway.example.net:8080", "http://gateway.example.net"])
def test_a_trusted_origin_is_its_scheme_host_and_port_together(net, trusted):
    """https:// at a trusted http:// origin's host and port is another origin: its address is
    checked when connecting, like any other's."""
    net.answers["gateway.example.net"] = ["10.0.0.5"]
    port = ":8080" if trusted.endswith(":8080") else ":80"
    with outbound.client(trusted=[trusted]) as http:
        with pytest.raises(outbound.Refused):
            http.get(f"https://gateway.example.net{port}/results/1.png")
        assert net.connections == []
        with pytest.raises(httpx.ConnectError):  # the trusted origin itself is connected to as it is
            http.get(f"{trusted}/results/1.png")
    assert net.connections == [("gateway.example.net", 8080 if port == ":8080" else 80)]


def test_https_at_a_trusted_http_origins_loopback_port_is_refused(cdn):
    port = cdn.url.rsplit(":", 1)[1]
    with outbound.client(trusted=[cdn.url]) as http:
        assert http.get(f"{cdn.url}/image.png").status_code == 200
        with pytest.raises(outbound.Refused):
            http.get(f"https://127.0.0.1:{port}/image.png")
    assert cdn.paths == ["/image.png"]
