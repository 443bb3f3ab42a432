"""Refusals in the vendor's shapes (their bodies are the contract's)."""

import uuid

from django.http import JsonResponse

from playground.evolink.contract import ApiError, invalid, reply_body

__all__ = ["REFUSED", "ApiError", "invalid", "not_found", "path_id", "response"]

REFUSED = "Invalid, expired or revoked token: send a personal token as 'Authorization: Bearer pgt_…'."


def not_found(message):
    return ApiError(404, message)


def path_id(text, message):
    """A task's or file's id from the path; what is not one is the vendor's 404 with `message`,
    like an id that names nothing (a converter would answer with the site's own 404 page)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found(message) from None


def response(request, error):
    return JsonResponse(reply_body(error, request.path), status=error.status, headers=error.headers)
