"""No input makes a server error.

Every URL pattern the app serves is tried as a team's owner, member and viewer, as another
team's owner and signed out (each example as all five), with GET and POST, and with hostile
values (drawn by Hypothesis) in every path parameter, query parameter and form field the app
reads: huge and negative integers, extreme and malformed dates, non-UUIDs, over-long strings,
NUL and control characters, unusual URL spellings. A deterministic sweep then puts each of the
values known to break things into every path parameter and every field of every URL. The
admin's pages get the same as a staff superuser (tests/test_no_server_errors_admin.py, a file
of its own so that a second worker takes it). Every answer is a 2xx, 3xx or 4xx, never a 500.

Outbound calls (the Key page's test, the Usage page's balance) reach only the test sandbox.
Each example runs in a savepoint that is rolled back, so one example's writes (a member
removed, a team left) never change what the next one finds.
"""

import copy
import itertools
import re
import reprlib
import time
import traceback
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import playground
from playground.batches.models import Batch, BatchRow
from playground.generations.models import GenerationReference, Reference, Status
from playground.library import prompts as library
from playground.teams import tokens
from playground.teams.models import Invitation, Membership

from .conftest import make_generation, make_user
from .finished import stored_image, stored_reference

pytestmark = pytest.mark.django_db

EXAMPLES_PER_URL = 2
# The sweep's time per URL: its values in every field at once always go; one field at a time
# goes on until this runs out (in a fixed order, so a run on a fast machine covers more).
SWEEP_SECONDS_PER_URL = 0.05
HYPOTHESIS = settings(
    max_examples=EXAMPLES_PER_URL,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the URLs ---------------------------------------------------------------------------


def _template(pattern):
    """A pattern's path with a {name} hole for each parameter, and its converters by name."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern)), dict(pattern.converters)
    regex = str(pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex), {}


def _walk(patterns, prefix="", converters=None, namespace=None):
    for pattern in patterns:
        template, found = _template(pattern.pattern)
        here = {**(converters or {}), **found}
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + template, here, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or prefix + template, "/" + prefix + template, here


def _routes(admin):
    found = {(name, template): converters for name, template, converters in _walk(get_resolver().url_patterns)}
    return sorted((route, converters) for route, converters in found.items()
                  if route[1].startswith("/admin/") == admin)


# The admin is Django's own, for staff only: it is walked apart, as a superuser.
ROUTES = _routes(admin=False)
ADMIN_ROUTES = _routes(admin=True)


def test_the_walk_finds_the_apps_urls():
    names = {name for (name, _), _ in ROUTES}
    assert {"studio:playground", "teams:change-role", "teams:accept-invitation", "evolink-callback"} <= names
    assert len(ROUTES) > 30
    admin_names = {name for (name, _), _ in ADMIN_ROUTES}
    assert {"admin:teams_team_change", "admin:generations_generation_change", "admin:auth_user_change"} <= admin_names


# -- the fields the app reads -------------------------------------------------------------

READ_FROM_REQUEST = re.compile(r"request\.(?:GET|POST)(?:\.get|\.getlist)?[\[(]\"(\w+)\"")


def _form_classes(base):
    for form in base.__subclasses__():
        yield form
        yield from _form_classes(form)


def field_names():
    """Every name a view reads from the query or the form: read directly, or a form's field."""
    source = Path(playground.__file__).parent
    names = set()
    for module in source.rglob("*.py"):
        if "sandbox" not in module.parts:
            names.update(READ_FROM_REQUEST.findall(module.read_text()))
    for form in _form_classes(forms.Form):
        if form.__module__.startswith("playground.") and ".sandbox" not in form.__module__:
            names.update(form.base_fields)
    for form in (PasswordChangeForm, PasswordResetForm, SetPasswordForm):
        names.update(form.base_fields)
    # Fields forms add when built (the budgets' one per member), Django's sign-in, language and next.
    return sorted(names | {"member-1", "username", "password", "language", "next", "csrfmiddlewaretoken"})


FIELDS = field_names()


def test_the_fields_include_what_the_probe_used():
    assert {"team", "role", "end", "start", "api_base_url", "prompt", "callback_url", "q"} <= set(FIELDS)


# -- hostile values -----------------------------------------------------------------------

HUGE = "9999999999999999999999999"
SPECIAL = [
    HUGE, "-" + HUGE, str(2**63), str(2**63 - 1), str(2**64), "-1", "0", "1e999", "NaN", "inf", "0x10", "1_000",
    "9999-12-31", "0001-01-01", "0000-00-00", "2024-02-30", "99999-01-01", "-001-01-01", "2024-13-01",
    "10000-01-01", "9999-12", "0001-01", "2024-1", "2024-00",
    "not-a-uuid", "00000000-0000-0000-0000-000000000000", "{12345678-1234-5678-1234-567812345678}",
    "\x00", "a\x00b", "\r\n", "\x1b[31m", "\u202e", "\ufeff", " ", "x" * 5000, "é" * 3000,
    "https://0177.0.0.1:8502", "https://0x7f.0.0.1", "https://2130706433", "https://017700000001",
    "https://xn--zz.com", "https://xn--bcher-kva.de", "https://bücher.de", "https://user:pass@api.example.com",
    "https://api.example.com:99999", "https://api.example.com:65536", "https://api.example.com:-1",
    "https://[::1]", "https://[::ffff:127.0.0.1]:8502", "https://[::1", "https://%30x7f.1", "http://localhost",
    "javascript:alert(1)", "//evil.example", "https://evil.example/%2e%2e", "https:///path", "https://",
    "owner", "admin", "member", "viewer", "remove", "1:1", "1024x1536", "2", "4", "full", "thumb", "raw",
]
# The sweep's values: one of each kind the probe used.
SWEEP = [
    HUGE, "-" + HUGE, "-1", "0", "1e999", "9999-12-31", "0001-01-01", "2024-02-30", "not-a-uuid", "\x00", "\r\n",
    "x" * 5000, "https://0177.0.0.1:8502", "https://2130706433", "https://api.example.com:99999",
    "https://user:pass@api.example.com", "https://xn--zz.com", "https://[::1",
]
hostile = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(SPECIAL),  # twice: the values known to have broken something come up more often
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.integers(min_value=2**63 - 2, max_value=2**80).map(str),  # past the database's integers
    st.dates().map(str),
    st.text(st.characters(codec="utf-8"), max_size=200),
    st.uuids().map(str),
)
# Some fields with values of their own, or one value in every field at once (so that a value
# that breaks one field meets that field whichever URL it is sent to).
fields = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), st.one_of(hostile, st.lists(hostile, max_size=3)), max_size=6),
    hostile.map(lambda value: dict.fromkeys(FIELDS, value)),
)


def path_value(known):
    """A path parameter: one that names something real, or anything at all, percent-encoded."""
    return st.one_of(st.sampled_from(known), st.sampled_from(SPECIAL), hostile).map(
        lambda value: quote(str(value), safe="")
    )


# -- the people and the things -------------------------------------------------------------

ROLES = ["owner", "member", "viewer", "other team's owner", "signed out"]
STAFF = "staff superuser"


@pytest.fixture
def world(team, owner, teammate, outsider, settings):
    settings.EVOLINK_MAX_RETRIES = 0  # the Key page's test and the balance: one refused call, not backoff
    return everything(team, owner, teammate, outsider)


def everything(team, owner, teammate, outsider):
    """One of everything a URL can name, and who may be asking."""
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    mask = stored_reference(team, owner, "mask.png", Reference.Kind.MASK)
    generation = make_generation(team, owner, status=Status.COMPLETED, mask=mask, callback_token="t" * 32)
    reference = stored_reference(team, owner, "shop-front.png")
    GenerationReference.objects.create(generation=generation, reference=reference, position=0)
    image = stored_image(generation, 0, raw=True)
    invitation, token = Invitation.issue(team, owner, Membership.Role.MEMBER, note="a newcomer")
    personal_token, _plain = tokens.issue(team, owner, name="a script")
    memberships = list(Membership.objects.values_list("pk", flat=True))
    saved_prompt = library.save(owner.memberships.get(), title="a template", text="a {{thing}}", tags=["x"], shared=True)
    batch = Batch.objects.create(team=team, created_by=owner, name="a batch", template="a {{thing}}", size="1:1", n=1)
    BatchRow.objects.create(batch=batch, number=2, values={"thing": "=cat"}, prompt="a =cat", generation=generation)
    BatchRow.objects.create(batch=batch, number=3, values={"thing": "dog"}, prompt="a dog", skipped="Choose 1, 2 or 4 images.")
    known = {
        "public_id": [generation.public_id, image.public_id, reference.public_id, mask.public_id, batch.public_id],
        "variant": ["full", "thumb", "raw"],
        "pk": [*memberships, invitation.pk, saved_prompt.pk],
        "token": [token, generation.callback_token, "set-password"],
        "uidb64": ["MQ", "Mg"],
        "prefix": [personal_token.prefix],
    }
    staff = get_user_model().objects.create_superuser("sam", "sam@example.com", "x")
    users = {"owner": owner, "member": teammate, "viewer": viewer, "other team's owner": outsider, STAFF: staff}
    return {"users": users, "known": known, "clients": {}}


def client_as(world, role):
    client = Client(raise_request_exception=False)
    if role in world["users"]:
        client.force_login(world["users"][role])
    return client


def signed_in(world, role):
    """One client per role for the whole test, signed in once (outside every rolled-back example)."""
    if role not in world["clients"]:
        world["clients"][role] = client_as(world, role)
    return world["clients"][role]


class Rollback(Exception):
    pass


def answer(world, role, method, path, query, form, htmx):
    """The response to one request, with everything it wrote rolled back."""
    found = {}
    client = signed_in(world, role)
    cookies = client.cookies
    with suppress(Rollback), transaction.atomic():
        client.cookies = copy.deepcopy(cookies)  # a sign-out or a switch is undone with the rest
        headers = {"HX-Request": "true"} if htmx else {}
        target = f"{path}?{urlencode(query, doseq=True)}" if query else path
        send = client.get if method == "GET" else client.post
        found["response"] = send(target, form if method == "POST" else None, headers=headers)
        raise Rollback
    client.cookies = cookies
    return found["response"]


def words_in(response):
    """The text a person reads in the answer, tags left out."""
    return re.sub(r"<[^>]*>|\s+", " ", response.content.decode(errors="replace")).strip()


def shortened(values):
    return reprlib.repr(values)


def explained(response):
    if getattr(response, "exc_info", None):
        return "".join(traceback.format_exception(*response.exc_info))
    return response.content[:500]


def assert_answered_in_words(world, role, method, path, query, form, htmx=False):
    response = answer(world, role, method, path, query, form, htmx)
    assert response.status_code < 500, (
        f"{method} {path} as {role} with query {shortened(query)} and form {shortened(form)} answered "
        f"{response.status_code}:\n{explained(response)}"
    )
    if response.status_code >= 400 and role != STAFF:  # the admin's own refusals are Django's
        assert words_in(response), f"{method} {path} as {role} answered {response.status_code} without words"


def examples(world, template, roles):
    holes = re.findall(r"{(\w+)}", template)

    @HYPOTHESIS
    @given(
        values=st.fixed_dictionaries({hole: path_value(world["known"].get(hole, ["x"])) for hole in holes}),
        trailing_slash=st.booleans(),
        query=fields,
        form=fields,
        htmx=st.booleans(),
    )
    def check(values, trailing_slash, query, form, htmx):
        path = template.format(**values)
        if trailing_slash and not path.endswith("/"):
            path += "/"
        for role, method in itertools.product(roles, ("GET", "POST")):
            assert_answered_in_words(world, role, method, path, query, form, htmx)

    check()


def sweep(world, template, role, seconds=SWEEP_SECONDS_PER_URL):
    """Each sweep value in every path parameter (the others naming something real), then in every
    field at once, then in one field at a time until the time runs out."""
    holes = re.findall(r"{(\w+)}", template)
    real = {hole: quote(str(world["known"].get(hole, ["x"])[0]), safe="") for hole in holes}
    path = template.format(**real)
    for value, hole in itertools.product(SWEEP, holes):
        assert_answered_in_words(world, role, "GET", template.format(**{**real, hole: quote(value, safe="")}), {}, {})
    for value, method in itertools.product(SWEEP, ("GET", "POST")):
        everywhere = dict.fromkeys(FIELDS, value)
        assert_answered_in_words(world, role, method, path, everywhere, everywhere)
    until = time.monotonic() + seconds
    for value, field in itertools.product(SWEEP, FIELDS):
        if time.monotonic() > until:
            break
        assert_answered_in_words(world, role, "POST", path, {field: value}, {field: value})


@pytest.mark.parametrize(("route", "converters"), ROUTES, ids=[name for (name, _), _ in ROUTES])
def test_no_request_to_any_url_answers_a_server_error(world, route, converters):
    _name, template = route
    examples(world, template, ROLES)
    sweep(world, template, "owner")


# -- the probe's own findings, each as a plain request ---------------------------------------


@pytest.mark.parametrize(
    ("role", "method", "path", "data"),
    [
        ("owner", "GET", "/generations/", {"end": "9999-12-31"}),
        ("owner", "GET", "/generations/", {"start": "0001-01-01", "end": "0001-01-01"}),
        ("owner", "POST", "/team/switch", {"team": HUGE}),
        ("owner", "POST", f"/team/members/{HUGE}/role", {"role": "member"}),
        ("owner", "POST", f"/team/members/{HUGE}/remove", {}),
        ("owner", "POST", f"/team/invitations/{HUGE}/revoke", {}),
        ("member", "POST", "/generations/{generation}/favourite", {"next": HUGE}),
        ("member", "POST", "/team/switch", {"team": "1", "next": "studio:playground"}),
        # The admin's lists filtered by an id past 64 bits (Django's own lookups pass it to SQLite).
        (STAFF, "GET", "/admin/auth/user/", {"generation": HUGE}),
        (STAFF, "GET", "/admin/teams/team/", {"memberships": HUGE}),
        (STAFF, "GET", f"/admin/teams/team/{HUGE}/change/", {}),
    ],
)
def test_the_probes_requests_answer_in_words_not_with_a_server_error(world, role, method, path, data):
    client = client_as(world, role)
    path = path.format(generation=world["known"]["public_id"][0])
    response = (client.get if method == "GET" else client.post)(path, data)
    assert response.status_code in (200, 302, 404), explained(response)


@pytest.mark.parametrize(
    ("role", "method", "path", "data", "status"),
    [
        ("owner", "GET", "/team/switch", {}, 405),
        ("owner", "PUT", "/invitations/{token}", {}, 405),
        ("owner", "POST", "/team/members/{member}/role", {"role": "emperor"}, 400),
    ],
)
def test_a_refusal_made_without_a_body_still_says_what_happened(world, role, method, path, data, status):
    path = path.format(token=world["known"]["token"][0], member=world["users"]["member"].memberships.get().pk)
    response = client_as(world, role).generic(method, path, urlencode(data),
                                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == status
    assert words_in(response)
