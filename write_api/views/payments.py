"""The payment gateway's webhook: verified by signature, parsed, applied once per gateway event."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.tracing import current_traceparent
from write_api.domain.errors import ValidationFailed
from write_api.domain.metadata import CommandContext
from write_api.payments.inbox import receive_once
from write_api.payments.notices import GatewayNotice, RefundNotice, parse_gateway_event
from write_api.payments.service import payments
from write_api.payments.webhooks import HEADER, BadSignature, verify
from write_api.refunding import refunds
from write_api.views.openapi import SIGNATURE, GatewayEventSerializer, WebhookReceiptSerializer

log = structlog.get_logger("shopstream.payments")


class PaymentWebhookApi(APIView):
    """POST from the gateway; a replayed event id is a no-op that still answers 200.

    A well-formed event that does not match its order (amount, currency, order, charge)
    is recorded with a "refused: <code>" outcome and answered 200, as provider
    integrations do: the provider retries anything but a 2xx, and a retry of the same
    signed body can only be refused again; the record and the log are where a person
    acts. A malformed body (bad ids, NUL, no amount) is 400 and nothing is stored.
    """

    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        request=GatewayEventSerializer,
        parameters=[SIGNATURE],
        responses={200: WebhookReceiptSerializer},
    )
    def post(self, request: Request, version: str) -> Response:
        raw = request.body
        try:
            verify(
                raw,
                request.headers.get(HEADER, ""),
                settings.PAYMENT_WEBHOOK_SECRET,
                settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
            )
        except BadSignature as bad:
            raise ValidationFailed(
                "The webhook signature is invalid.", {HEADER: [str(bad)]}
            ) from None
        try:
            notice = parse_gateway_event(raw)
        except ValidationFailed as malformed:
            log.warning("gateway_event_malformed", fields=sorted(malformed.details))
            raise
        context = CommandContext(
            actor_role="payment_gateway",
            request_id=getattr(request._request, "request_id", None),
            correlation_id=notice.event_id,
            causation_id=notice.event_id,
            traceparent=current_traceparent(),
        )
        outcome = receive_once(notice, lambda: applier(notice)(notice, context))
        if outcome is None:
            return Response({"received": True, "duplicate": True})
        return Response({"received": True, "outcome": outcome})


def applier(notice: GatewayNotice) -> Callable[[GatewayNotice, CommandContext], str]:
    """Refund events go to the refund use cases, every other event to the payment ones."""
    if isinstance(notice, RefundNotice):
        return refunds().apply_gateway_event
    return payments().apply_gateway_event
