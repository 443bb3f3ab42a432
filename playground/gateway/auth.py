"""Who asks: a personal token in `Authorization: Bearer`, and nothing else.

A browser's session cookie is never read here, so these endpoints have no CSRF surface
(they are csrf_exempt for that reason); the token itself never reaches a log or a reply.
"""

import functools
import logging

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from playground.signin import client_address
from playground.teams import tokens

from . import errors, limits
from .errors import REFUSED, ApiError

log = logging.getLogger(__name__)


@sensitive_variables("raw")
def token_of(request):
    scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
    token = tokens.authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiError(401, REFUSED)
    return token


def api(*methods):
    """A gateway endpoint: other methods are a 405, the token is checked and counted against
    its minute, and an ApiError anywhere below becomes the vendor's error body."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = answer(request, *args, **kwargs)
            # Replies hold signed links and a team's figures: no shared cache keeps them.
            response["Cache-Control"] = "no-store"
            return response

        def answer(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        f"{request.method} is not allowed here; use {' or '.join(methods)}.",
                        headers={"Allow": ", ".join(methods)},
                    )
                token = token_of(request)
                limits.count_request(token)
                tokens.touch(token, client_address(request))
                return view(request, token, *args, **kwargs)
            except ApiError as error:
                return errors.response(request, error)

        return wrapped

    return decorate
