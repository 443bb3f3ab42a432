"""Refusals in the vendor's shapes (their bodies are the contract's)."""

from django.http import JsonResponse

from playground.evolink.contract import ApiError, invalid, reply_body

__all__ = ["ApiError", "invalid", "not_found", "response"]


def not_found(message):
    return ApiError(404, message)


def response(request, error):
    return JsonResponse(reply_body(error, request.path), status=error.status, headers=error.headers)
