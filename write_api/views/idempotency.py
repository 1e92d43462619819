"""Idempotency-Key for commands that move money (Stripe semantics).

The first request with a key stores a fingerprint of itself and its response; a
repeat with the same body gets that response again without a second effect; a
repeat with another body is refused with 422. Keys belong to one user and expire
after 24 hours. Concurrent requests with one key are serialized by the key's
unique row: the second waits for the first and then replays its response.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from write_api.commands.models import IdempotencyRecord
from write_api.context import acting_user
from write_api.domain.errors import DomainError, ValidationFailed

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


def fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(view: APIView, request: Request, handle: Callable[[], Response]) -> Response:
    """Run `handle` once per (user, key); replay its stored response afterwards."""
    key = request.headers.get(HEADER)
    if key is None:
        return handle()
    if not _VALID_KEY.match(key):
        raise ValidationFailed(
            "Invalid Idempotency-Key.", {HEADER: ["1 to 255 visible ASCII characters."]}
        )
    request_print = fingerprint(request)
    with transaction.atomic():
        stored = _claim(request, key, request_print)
        if stored is not None:
            if stored.fingerprint != request_print:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used with a different request.", code=None
                )
            return Response(
                stored.response, status=stored.status_code, headers={"Idempotent-Replayed": "true"}
            )
        response = _outcome(view, request, handle)
        IdempotencyRecord.objects.filter(user=acting_user(request), key=key).update(
            status_code=response.status_code, response=response.data
        )
    return response


def _claim(request: Request, key: str, print_: str) -> IdempotencyRecord | None:
    """Insert the key's row (ours to fill) or return the earlier, completed one."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(
        user=acting_user(request), key=key, expires_at__lt=now
    ).delete()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                user=acting_user(request), key=key, fingerprint=print_, expires_at=now + LIFETIME
            )
    except IntegrityError:
        return IdempotencyRecord.objects.select_for_update().get(user=acting_user(request), key=key)
    return None


def _outcome(view: APIView, request: Request, handle: Callable[[], Response]) -> Response:
    """The response to store: a refusal is an outcome too (a retry must not act again).

    A transient refusal (another payment in flight) is not stored: the key's row is
    rolled back with the exception, so a retry with the same key may still succeed.
    """
    try:
        return handle()
    except DomainError as refused:
        if refused.transient:
            raise
        # The handler the deployment configured (REST_FRAMEWORK["EXCEPTION_HANDLER"]).
        handler = view.get_exception_handler()
        response = handler(refused, {"request": request, "view": view})
        if response.status_code >= 500:
            raise
        return response
