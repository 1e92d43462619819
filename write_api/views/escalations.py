"""Escalation commands: the customer opens one, the parties write, an admin resolves it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import errors
from write_api.application import shop
from write_api.commands import idempotency
from write_api.context import acting_user, command_context
from write_api.domain.escalation_rules import MESSAGE_MAX, REASONS, RESOLUTIONS
from write_api.escalation_service import escalations
from write_api.fields import (
    RefundAmountField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
)
from write_api.permissions import IsAdmin, IsCustomer, TakesPartInOrders
from write_api.serializers import StrictSerializer
from write_api.views.openapi import (
    IDEMPOTENCY_KEY,
    EscalationMessageSerializer,
    EscalationOpenedSerializer,
    EscalationResolvedSerializer,
)


def message_field() -> StrictCharField:
    return StrictCharField(max_length=MESSAGE_MAX, multiline=True)


class OrderEscalationCreateApi(APIView):
    """The owning customer opens an escalation on a paid (or later) order."""

    permission_classes = [IsCustomer]

    class InputSerializer(StrictSerializer):
        reason = StrictChoiceField(choices=REASONS)
        message = message_field()

    @extend_schema(
        request=InputSerializer,
        responses={201: EscalationOpenedSerializer, **errors(404, 409)},
    )
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = shop().open_escalation(
            order_id,
            customer_id=acting_user(request).id,
            **body.validated_data,
            context=command_context(request),
        )
        return Response(
            {
                "id": str(saved.id),
                "order_id": str(order_id),
                "status": "open",
                "version": saved.version,
            },
            status=status.HTTP_201_CREATED,
        )


class EscalationMessageCreateApi(APIView):
    """Its customer, a seller of the order or an admin writes on an open escalation."""

    permission_classes = [TakesPartInOrders]

    class InputSerializer(StrictSerializer):
        message = message_field()

    @extend_schema(
        request=InputSerializer,
        responses={201: EscalationMessageSerializer, **errors(404, 409)},
    )
    def post(self, request: Request, version: str, escalation_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = acting_user(request)
        saved = shop().post_escalation_message(
            escalation_id,
            author_id=user.id,
            role=user.role,
            message=body.validated_data["message"],
            context=command_context(request),
        )
        return Response(
            {"id": str(saved.id), "version": saved.version}, status=status.HTTP_201_CREATED
        )


class EscalationResolveApi(APIView):
    """An admin resolves an open escalation: a refund (amount, optional restock) or a
    rejection; honours Idempotency-Key."""

    permission_classes = [IsAdmin]

    class InputSerializer(StrictSerializer):
        resolution = StrictChoiceField(choices=RESOLUTIONS)
        amount = RefundAmountField(required=False, help_text='For a refund only: "12.50".')
        restock = StrictBooleanField(
            required=False, help_text="For a refund only: put the order's units back on sale."
        )
        message = message_field()

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: EscalationResolvedSerializer, **errors(404, 409, 422)},
    )
    def post(self, request: Request, version: str, escalation_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return idempotency.once(
            self, request, lambda _: self.resolve(request, escalation_id, data), acts_outside=True
        )

    def resolve(self, request: Request, escalation_id: UUID, data: dict[str, Any]) -> Response:
        resolved = escalations().resolve(
            escalation_id,
            resolution=data["resolution"],
            amount=data.get("amount"),
            restock=data.get("restock"),
            message=data["message"],
            context=command_context(request),
        )
        refund = resolved.refund
        body: dict[str, Any] = {
            "id": str(resolved.id),
            "status": "resolved",
            "resolution": resolved.resolution,
            "version": resolved.version,
        }
        if refund is not None:
            body["refund"] = {
                "id": str(refund["id"]),
                "amount": str(refund["amount"]),
                "status": refund["status"],
            }
        return Response(body)
