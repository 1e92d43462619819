"""Refund command: admins refund any paid order; a seller refunds only its own lines."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import errors
from write_api.accounts.models import Role
from write_api.commands import idempotency
from write_api.context import acting_user, command_context
from write_api.domain.limits import REFUND_REASON_MAX
from write_api.fields import RefundAmountField, StrictBooleanField, StrictCharField
from write_api.permissions import IsSellerOrAdmin
from write_api.refunding import refunds
from write_api.results import RefundResult
from write_api.serializers import StrictSerializer
from write_api.views.openapi import IDEMPOTENCY_KEY, RefundSerializer


class OrderRefundCreateApi(APIView):
    """Give money back on a paid order, optionally putting the refunded lines back on sale."""

    permission_classes = [IsSellerOrAdmin]

    class InputSerializer(StrictSerializer):
        amount = RefundAmountField()
        reason = StrictCharField(max_length=REFUND_REASON_MAX)
        restock = StrictBooleanField(required=False, default=False)
        product_ids = serializers.ListField(
            child=serializers.UUIDField(), required=False, allow_null=True, max_length=100
        )

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: RefundSerializer, **errors(403, 404, 409, 422)},
    )
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return idempotency.once(
            self,
            request,
            lambda _: self.refund(request, order_id, body.validated_data),
            acts_outside=True,
        )

    def refund(self, request: Request, order_id: UUID, data: dict[str, Any]) -> Response:
        user = acting_user(request)
        result = refunds().refund_order(
            order_id,
            amount=data["amount"],
            reason=data["reason"],
            restock=data["restock"],
            product_ids=data.get("product_ids"),
            context=command_context(request),
            seller_id=user.id if user.role == Role.SELLER else None,
        )
        return Response(refund_body(result), status=201)


def refund_body(result: RefundResult) -> dict[str, object]:
    return {
        "id": str(result.id),
        "order_id": str(result.order_id),
        "amount": str(result.amount),
        "status": result.status,
        "version": result.version,
    }
