"""One error shape for the whole API:

    {"error": {"code": "validation_error", "message": "...", "details": {"field": ["..."]}}}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = gettext_lazy("The resource changed since you loaded it.")


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def error_response(code: str, message: str, *, details=None, http_status: int = 400, **extra) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or {}, **extra}}
    return Response(body, status=http_status)


def exception_handler(exc, context):
    if isinstance(exc, Http404):  # as DRF does, so that the code below reads "not_found", not "error"
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    code = "error"
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
        details = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        message = gettext("Invalid input.")
    else:
        details = {}
        message = str(detail) if detail is not None else str(exc)
    extra = getattr(exc, "extra", None) or {}
    response.data = {"error": {"code": code, "message": message, "details": details, **extra}}
    return response
