"""Order commands: pay (owner), cancel (owner before shipping, admin), fulfil (sellers, admin)."""

from __future__ import annotations

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
from write_api.domain.limits import PAYMENT_TOKEN_MAX
from write_api.domain.order_status import FULFILMENT
from write_api.fields import StrictCharField, StrictChoiceField
from write_api.payments.service import payments
from write_api.permissions import IsCustomer, OwnsOrderOrIsAdmin, SellsEveryLineOrIsAdmin
from write_api.refunding import refunds
from write_api.serializers import StrictSerializer
from write_api.views.openapi import IDEMPOTENCY_KEY, OrderStatusSerializer


class OrderPayApi(APIView):
    """Pay a pending order with a gateway token; honours Idempotency-Key."""

    permission_classes = [IsCustomer]

    class InputSerializer(StrictSerializer):
        payment_token = StrictCharField(max_length=PAYMENT_TOKEN_MAX)

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: OrderStatusSerializer,
            202: OrderStatusSerializer,
            **errors(402, 409, 422),
        },
    )
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token = body.validated_data["payment_token"]
        return idempotency.once(
            self, request, lambda _: self.pay(request, order_id, token), acts_outside=True
        )

    def pay(self, request: Request, order_id: UUID, token: str) -> Response:
        result = payments().pay_order_with_token(
            order_id,
            customer_id=acting_user(request).id,
            token=token,
            context=command_context(request),
        )
        return Response(
            {"order_id": str(result.order_id), "status": result.status, "version": result.version},
            status=status.HTTP_202_ACCEPTED if result.status == "payment_pending" else 200,
        )


class OrderCancelApi(APIView):
    """The owning customer cancels before shipping; admins cancel any cancellable order.

    A paid order's captured money is refunded and its units go back on sale.
    """

    permission_classes = [OwnsOrderOrIsAdmin]

    @extend_schema(request=None, responses={200: OrderStatusSerializer, **errors(409)})
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        order = shop().get_order(order_id)
        self.check_object_permissions(request, order)
        saved = refunds().cancel_order(
            order.id, reason=f"by {acting_user(request).role}", context=command_context(request)
        )
        return Response(
            {"order_id": str(order.id), "status": "cancelled", "version": saved.version}
        )


class OrderStatusApi(APIView):
    """Sellers of every line (or admins) move an order through fulfilment."""

    permission_classes = [SellsEveryLineOrIsAdmin]

    class InputSerializer(StrictSerializer):
        status = StrictChoiceField(choices=sorted(set(FULFILMENT.values())))

    @extend_schema(request=InputSerializer, responses={200: OrderStatusSerializer, **errors(409)})
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = shop().get_order(order_id)
        self.check_object_permissions(request, order)
        wanted = body.validated_data["status"]
        saved = shop().advance_order(order.id, status=wanted, context=command_context(request))
        return Response({"order_id": str(order.id), "status": wanted, "version": saved.version})
