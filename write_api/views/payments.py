"""The payment gateway's webhook: verified by signature, applied once per gateway event."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from infra.event_store import shop
from write_api.commands.models import GatewayEvent
from write_api.domain.errors import DomainError, ValidationFailed
from write_api.domain.metadata import CommandContext
from write_api.payments.webhooks import HEADER, BadSignature, verify
from write_api.views.openapi import SIGNATURE, GatewayEventSerializer, WebhookReceiptSerializer

HANDLED = {"charge.succeeded", "charge.failed"}


class PaymentWebhookApi(APIView):
    """POST from the gateway; a replayed event id is a no-op that still answers 200."""

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
            event = _parse(raw)
        except BadSignature as bad:
            raise ValidationFailed(
                "The webhook signature is invalid.", {HEADER: [str(bad)]}
            ) from None
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = GatewayEvent.objects.create(event_id=event["id"], type=event["type"])
            except IntegrityError:
                return Response({"received": True, "duplicate": True})
            record.outcome = self.apply(event, request)
            record.save(update_fields=["outcome"])
        return Response({"received": True, "outcome": record.outcome})

    @staticmethod
    def apply(event: dict[str, Any], request: Request) -> str:
        data = event["data"]
        context = CommandContext(
            actor_role="payment_gateway",
            request_id=getattr(request._request, "request_id", None),
            correlation_id=event["id"],
            causation_id=event["id"],
        )
        order_id = UUID(data["reference"])
        try:
            if event["type"] == "charge.succeeded":
                shop().pay_order(order_id, charge_id=data["charge_id"], context=context)
            elif event["type"] == "charge.failed":
                shop().record_payment_declined(
                    order_id,
                    charge_id=data["charge_id"],
                    reason=data.get("reason", ""),
                    context=context,
                )
            else:
                return "ignored"
        except DomainError as refused:
            # e.g. the order was cancelled meanwhile: keep the record, a person must refund.
            return f"refused: {refused.code}"
        return "applied"


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw)
        UUID(event["data"]["reference"])
        fields = (event["id"], event["type"], event["data"]["charge_id"])
    except (ValueError, KeyError, TypeError):
        fields = ()
    if not fields or not all(isinstance(f, str) for f in fields):
        raise ValidationFailed("The webhook body is not a gateway event.", {"body": ["Malformed."]})
    return dict(event)
