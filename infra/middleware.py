"""Request id and access-log middleware shared by both APIs."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from infra.logging import log_access

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def incoming_request_id(request: HttpRequest) -> str:
    """The client's X-Request-ID when it is a safe token, else a fresh UUID."""
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if _SAFE_REQUEST_ID.match(offered) else str(uuid.uuid4())


class RequestIdMiddleware:
    """Give every request an id: echoed in the response, bound into every log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response[REQUEST_ID_HEADER] = request_id
        return response


class AccessLogMiddleware:
    """One line per request: method, path, status, duration in ms and user id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        log_access(
            {
                "event": "request",
                "request_id": getattr(request, "request_id", None),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user_id(request),
            }
        )
        return response


def user_id(request: HttpRequest) -> str | None:
    """The authenticated user's id, without loading a user the request never looked at."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and getattr(user, "_wrapped", None) is empty:
        return None
    return str(user.pk) if user is not None and user.is_authenticated else None
