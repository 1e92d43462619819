"""OpenAPI pieces both APIs share: the error envelope, `errors(...)` (with which a view adds
the refusals only it knows, 402, 409, 422, ..., to its operation) and money fields."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "The request is invalid (`validation_error`, with per-field details).",
    401: "No valid access token.",
    402: "The payment was declined (`payment_declined`).",
    403: "The caller's role or ownership does not allow this.",
    404: "No such resource (or one the caller may not know of).",
    409: "The change clashes with the current state or a concurrent change.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    422: "This Idempotency-Key was used with a different request.",
    429: "Rate limited; retry after `Retry-After` seconds.",
    503: "A backing service is unavailable; retry after `Retry-After` seconds.",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable snake_case code, e.g. `validation_error`.")
    message = serializers.CharField()
    details = serializers.DictField(
        child=serializers.JSONField(), help_text="Per-field messages, or other context."
    )
    request_id = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="ErrorEnvelope")
class ErrorEnvelopeSerializer(serializers.Serializer):
    """Every 4xx/5xx body of both APIs (infra.errors.envelope)."""

    error = ErrorSerializer()


def errors(*statuses: int) -> dict[int, type[serializers.Serializer]]:
    """Extra error answers of one operation, for `extend_schema(responses={...})`."""
    return dict.fromkeys(statuses, ErrorEnvelopeSerializer)


def money(**kwargs: Any) -> serializers.DecimalField:
    """A decimal string with two places, e.g. "19.99"."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)
