"""No log line holds an invitation's or a callback's token: not Django's refusal lines (404,
405, 400), not its 500 line with the traceback, not runserver's or gunicorn's access lines,
whatever the spelling of the path (trailing or doubled slashes, case, percent-encoding)."""

import importlib
import io
import json
import logging
import secrets

import pytest
from django.core import mail
from django.core.exceptions import BadRequest
from django.db.models.query import QuerySet
from django.test import Client

from playground.evolink import errors
from playground.generations import lifecycle
from playground.generations.models import Status
from playground.log_redaction import redact
from playground.teams.models import Invitation, Membership

from .conftest import make_generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(team, owner):
    _invitation, invitation_token = Invitation.issue(team, owner, Membership.Role.OWNER, note="a co-owner")
    callback_token = secrets.token_urlsafe(30)
    make_generation(team, owner, callback_token=callback_token)
    return {"invitation": invitation_token, "callback": callback_token}


def spellings(tokens):
    """(method, path as sent, PATH_INFO as the server decoded it, or None for the path itself)."""
    invitation, callback = tokens["invitation"], tokens["callback"]
    return [
        ("GET", f"/invitations/{invitation}/", None),
        ("GET", f"/invitations/{invitation}%2F", None),
        ("GET", f"/Invitations/{invitation}", None),
        ("GET", "/", f"//invitations//{invitation}"),
        ("GET", "/", f"/invitations%2F{invitation}/"),
        ("GET", "/", f"/%69nvitations/{invitation}"),
        ("GET", "/", f"/team/../invitations/{invitation}/x"),
        ("PUT", f"/invitations/{invitation}", None),
        ("POST", f"/invitations/{invitation}", None),
        ("GET", f"/callbacks/evolink/{callback}", None),
        ("GET", f"/callbacks/evolink/{callback}/", None),
        ("DELETE", f"/CALLBACKS/EVOLINK/{callback}", None),
        ("GET", "/", f"/callbacks//evolink/{callback}"),
        # Dot segments, separators and junk before or after the prefix: everything after it goes.
        ("GET", f"/invitations/./{invitation}", None),
        ("GET", f"/invitations/%2e/{invitation}", None),
        ("GET", "/", f"/invitations/x/../{invitation}"),
        ("GET", f"/invitations/;/{invitation}", None),
        ("GET", f"/invitations/&{invitation}", None),
        ("GET", f'/invitations/"{invitation}', None),
        ("GET", f"/invitations/<{invitation}", None),
        ("GET", f"/invitations\\{invitation}", None),
        ("GET", f"/invitations%5c{invitation}", None),
        ("GET", f"/invitations%255c{invitation}", None),
        ("GET", f"/%20invitations/{invitation}", None),
        ("GET", f"/invitations/%20{invitation}", None),
        ("GET", f"/./invitations/{invitation}", None),
        ("GET", f"/callbacks/evolink/x/../{callback}", None),
        ("GET", f"/callbacks\\evolink\\{callback}", None),
    ]


def request(method, path, path_info=None, **extra):
    client = Client(raise_request_exception=False)
    if path_info:
        extra["PATH_INFO"] = path_info
    return client.generic(method, path, **extra)


def assert_no_token_in(records, text, tokens):
    for record in records:
        shown = [record.getMessage(), repr(record.args), str(record.msg), record.exc_text or ""]
        for secret in tokens.values():
            assert not any(secret in part for part in shown), (record.name, record.getMessage())
    for secret in tokens.values():
        assert secret not in text


def request_lines(records, status_phrase):
    return [r for r in records if r.name == "django.request" and r.getMessage().startswith(status_phrase)]


def test_refusals_404_and_405_log_the_path_without_the_token(caplog, tokens):
    caplog.set_level(logging.INFO)
    statuses = set()
    for method, path, path_info in spellings(tokens):
        statuses.add(request(method, path, path_info).status_code)
    assert statuses == {404, 405}
    assert len(request_lines(caplog.records, "Not Found: ")) >= 8
    assert len(request_lines(caplog.records, "Method Not Allowed")) >= 3
    assert_no_token_in(caplog.records, caplog.text, tokens)
    assert "/invitations/..." in caplog.text and "/callbacks/evolink/..." in caplog.text.lower()


def test_a_bad_request_logs_the_path_without_the_token(caplog, tokens, monkeypatch):
    caplog.set_level(logging.INFO)
    for method, path, path_info in spellings(tokens):
        response = request(method, path, path_info, HTTP_HOST="not a host!")
        assert response.status_code == 400
    assert len([r for r in caplog.records if r.name == "django.security.DisallowedHost"]) == len(spellings(tokens))

    def refused(queryset):
        raise BadRequest("Bad Request")

    monkeypatch.setattr(QuerySet, "first", refused)  # both views look their token up with .first()
    assert request("GET", f"/invitations/{tokens['invitation']}").status_code == 400
    assert request("POST", f"/callbacks/evolink/{tokens['callback']}").status_code == 400
    assert len(request_lines(caplog.records, "Bad Request: ")) == 2
    assert_no_token_in(caplog.records, caplog.text, tokens)


def test_a_server_error_logs_the_path_and_traceback_without_the_token(caplog, tokens, monkeypatch):
    def broken(queryset):
        raise RuntimeError(f"failed while serving /invitations/{tokens['invitation']} "
                           f"and /callbacks/evolink/{tokens['callback']}")

    monkeypatch.setattr(QuerySet, "first", broken)  # both views look their token up with .first()
    caplog.set_level(logging.INFO)
    assert request("GET", f"/invitations/{tokens['invitation']}").status_code == 500
    assert request("POST", f"/callbacks/evolink/{tokens['callback']}").status_code == 500
    assert len(request_lines(caplog.records, "Internal Server Error: ")) == 2
    assert "RuntimeError: failed while serving /invitations/..." in caplog.text
    assert_no_token_in(caplog.records, caplog.text, tokens)


class Kept(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def kept():
    handler = Kept()
    yield handler
    for name in ("django.server", "gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).removeHandler(handler)


def test_runservers_access_lines_hold_no_token(tokens, kept):
    logger = logging.getLogger("django.server")
    logger.addHandler(kept)
    # As django.core.servers.basehttp.WSGIRequestHandler.log_message logs a request.
    for method, path, path_info in spellings(tokens):
        logger.warning('"%s" %s %s', f"{method} {path_info or path}?next=/x HTTP/1.1", "404", "179")
    assert len(kept.lines) == len(spellings(tokens))
    assert not any(secret in line for line in kept.lines for secret in tokens.values())


def test_gunicorns_access_and_error_lines_hold_no_token(tokens, kept, monkeypatch):
    access, error = logging.getLogger("gunicorn.access"), logging.getLogger("gunicorn.error")
    monkeypatch.setattr(access, "filters", [])
    monkeypatch.setattr(error, "filters", [])
    importlib.import_module("playground.gunicorn_conf").on_starting(server=None)
    for logger in (access, error):
        logger.addHandler(kept)
        logger.setLevel(logging.INFO)
    path = f"/invitations/{tokens['invitation']}/"
    # gunicorn's default access format, with the atoms as its glogging.Logger.access passes them.
    access.info('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"', {
        "h": "203.0.113.9", "l": "-", "u": "-", "t": "[06/Dec/2026:02:00:00 +0000]",
        "r": f"GET {path} HTTP/1.1", "s": "404", "b": "179", "f": f"https://example.com{path}", "a": "curl",
    })
    error.error("Error handling request %s", f"/callbacks/evolink/{tokens['callback']}")
    assert len(kept.lines) == 2
    assert not any(secret in line for line in kept.lines for secret in tokens.values())


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Not Found: /team/invitations/5/revoke", "Not Found: /team/invitations/5/revoke"),
        ("Not Found: /invitations/accept", "Not Found: /invitations/..."),
        ("GET /invitations/ HTTP/1.1", "GET /invitations/ HTTP/1.1"),
        ("next=%2Finvitations%2Fabc&x=1", "next=%2Finvitations%2F..."),
        ("Not Found: /invitations/abc/../x", "Not Found: /invitations/..."),
        ('"GET /invitations/a%22b HTTP/1.1" 404', '"GET /invitations/... HTTP/1.1" 404'),
        ("<WSGIRequest: GET '/invitations/abc'>", "<WSGIRequest: GET '/invitations/...'>"),
        ("Not Found: /accounts/reset/MQ/cxk-abc123/", "Not Found: /accounts/reset/..."),
        ("Not Found: /accounts/password_reset/done/", "Not Found: /accounts/password_reset/done/"),
        ("/invitations%252Fabc", "/invitations%252F..."),
        ("https://h.example/callbacks/evolink/abc?x", "https://h.example/callbacks/evolink/...?x"),
        ("Authorization: Bearer pgt_Ab12Cd34efGH-_ijKL", "Authorization: Bearer pgt_Ab12Cd34..."),
        ("token='pgt_Ab12Cd34efGH' and pgt_Zz99-_xxQQ_rest", "token='pgt_Ab12Cd34...' and pgt_Zz99-_xx..."),
        ("a pgt_ prefix alone: pgt_Ab12Cd34", "a pgt_ prefix alone: pgt_Ab12Cd34"),
    ],
)
def test_what_is_redacted_and_what_is_not(line, expected):
    assert redact(line) == expected


def every_handler_up_from(name):
    logger = logging.getLogger(name)
    while logger:
        yield from logger.handlers
        logger = logger.parent if logger.propagate else None


@pytest.mark.parametrize("debug", [True, False])
def test_a_csrf_refusal_printed_by_djangos_own_handlers_holds_no_token(tokens, settings, monkeypatch, debug):
    """django.security.csrf's "Forbidden (CSRF ...): <path>" goes through the "django" logger's
    handlers (Django's: a console in DEBUG, a mail to ADMINS otherwise) before the root's."""
    settings.DEBUG = debug
    settings.ADMINS = ["ops@example.com"]
    printed = io.StringIO()
    for handler in every_handler_up_from("django.security.csrf"):
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", printed)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    reset_link = f"/accounts/reset/MQ/{tokens['invitation']}-set/"
    for path in (f"/invitations/{tokens['invitation']}", f"/callbacks/evolink/x/../{tokens['callback']}", reset_link):
        assert client.post(path).status_code in (403, 404, 405)
    assert printed.getvalue().count("Forbidden (CSRF") >= (2 if debug else 1)
    mailed = "".join(message.subject + message.body for message in mail.outbox)
    assert not mail.outbox  # the mail would hold the whole request
    for secret in tokens.values():
        assert secret not in printed.getvalue() and secret not in mailed


def test_an_upstream_error_that_echoes_the_callback_url_is_stored_without_its_token(team, owner, monkeypatch, settings):
    settings.CALLBACK_BASE_URL = "https://playground.example.com"
    generation = make_generation(team, owner, status=Status.QUEUED, callback_token="c" * 40)
    callback = lifecycle.callback_for(generation)
    assert "c" * 40 in callback

    class Refusing:
        def create_task(self, *args, **kwargs):
            echoed = f'callback_url {callback} is not reachable ({json.dumps({"callback_url": callback})})'
            raise errors.task_cancelled("invalid_request", reason=echoed)

    monkeypatch.setattr(lifecycle, "account_for", lambda team: None)
    monkeypatch.setattr(lifecycle, "client_from", lambda account, polling=False: Refusing())
    monkeypatch.setattr(lifecycle, "host_inputs", lambda generation, client, account: ([], ""))
    lifecycle.submit(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert "is not reachable" in generation.error_message
    assert "c" * 40 not in generation.error_message
