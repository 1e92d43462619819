"""The one place that owns the error envelope of both APIs.

Every 4xx/5xx body is {"error": {"code", "message", "details", "request_id"}}:
DRF errors, domain errors, Django's own 404/405/500, CSRF refusals, oversized
bodies and anything unexpected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from opensearchpy.exceptions import RequestError as OpenSearchRequestError
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from adapters.outages import is_outage
from write_api.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
)

log = structlog.get_logger("shopstream.errors")

# Bodies Django refuses to read into memory (DATA_UPLOAD_MAX_* settings).
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
DOMAIN_STATUS = {ValidationFailed: 400, Forbidden: 403, NotFound: 404, Conflict: 409}
# Refusals whose code has its own status in API.md.
CODE_STATUS = {
    "idempotency_key_reused": 422,
    "payment_declined": 402,
    "forbidden": 403,
    "not_a_buyer": 403,
}
# DRF's codes for malformed bodies are all "the input is wrong" to a client.
RENAMED_CODES = {"invalid": "validation_error", "parse_error": "validation_error"}


def envelope(
    request: HttpRequest | None, code: str, message: str, details: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": dict(details) if details else {},
            "request_id": getattr(request, "request_id", None),
        }
    }


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF EXCEPTION_HANDLER: map every exception to the envelope, never to HTML."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        status = CODE_STATUS.get(exc.code) or next(
            (s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls)), 400
        )
        return Response(envelope(request, exc.code, exc.message, exc.details), status=status)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, TOO_LARGE):
        return Response(envelope(request, *PAYLOAD_TOO_LARGE), status=413)
    if is_outage(exc):  # a backing server away, stalled or overloaded: the client may retry
        log.error("dependency_unavailable", error=repr(exc))
        body = envelope(request, "service_unavailable", "A backing service is unavailable; retry.")
        return Response(body, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, OpenSearchRequestError):
        # Every search input is validated first, so this is input we failed to foresee.
        log.warning("search_refused", error=repr(exc))
        return Response(envelope(request, *SEARCH_REFUSED), status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled_exception", exc_info=exc)
        return Response(
            envelope(request, "internal_error", "An unexpected error occurred."), status=500
        )
    assert isinstance(exc, drf.APIException)
    response.data = envelope(request, *_describe(exc))
    return response


PAYLOAD_TOO_LARGE = ("payload_too_large", "The request body is too large.")
SEARCH_REFUSED = ("invalid_search", "The search service refused this query.")


def _describe(exc: drf.APIException) -> tuple[str, str, dict[str, Any]]:
    if isinstance(exc, drf.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return "validation_error", "The request is invalid.", details
    if isinstance(exc, drf.ParseError):
        return (
            "validation_error",
            "The request body is not valid JSON.",
            {"non_field_errors": [str(exc.detail)]},
        )
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail: Any = exc.detail
    if isinstance(detail, dict):  # simplejwt: {"detail": ..., "code": ..., "messages": [...]}
        code = str(detail.get("code", code))
        detail = detail.get("detail", exc.default_detail)
    return RENAMED_CODES.get(code, code), str(detail), {}


def json_error(request: HttpRequest, status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(envelope(request, code, message), status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error(request, 404, "not_found", "No such resource.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django's answer to a SuspiciousOperation outside a view, e.g. an oversized
    form read by CsrfViewMiddleware (which is a 413 here, like inside a view)."""
    if isinstance(exception, TOO_LARGE):
        return json_error(request, 413, *PAYLOAD_TOO_LARGE)
    return json_error(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error(request, 403, "permission_denied", "You may not do this.")


def server_error(request: HttpRequest) -> HttpResponse:
    return json_error(request, 500, "internal_error", "An unexpected error occurred.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: only session (admin) views check CSRF; the API uses bearer tokens."""
    return json_error(request, 403, "csrf_failed", "CSRF verification failed.")


class UnhandledErrorMiddleware:
    """Last line of defence: an exception escaping any view becomes a logged 500 envelope."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404 | DjangoPermissionDenied):
            return None
        if isinstance(exception, TOO_LARGE):
            return json_error(request, 413, *PAYLOAD_TOO_LARGE)
        log.exception("unhandled_exception", exc_info=exception)
        return server_error(request)
