"""Order commands: pay (owner), cancel (owner before shipping, admin), fulfil (sellers, admin)."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from infra.event_store import shop
from infra.openapi import errors
from write_api.accounts.models import Role
from write_api.context import command_context
from write_api.domain.errors import DomainError, NotFound
from write_api.domain.order import FULFILMENT, PENDING_PAYMENT, Order, illegal
from write_api.fields import StrictCharField
from write_api.payments.gateway import Outcome, PaymentGateway
from write_api.permissions import IsAuthenticatedUser, IsCustomer, IsSellerOrAdmin
from write_api.serializers import StrictSerializer
from write_api.views.idempotency import idempotent
from write_api.views.openapi import IDEMPOTENCY_KEY, OrderStatusSerializer


def gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()


def own_order(request: Request, order_id: UUID) -> Order:
    """The caller's order; anyone else's is reported as missing, not forbidden."""
    order = shop().get_order(order_id)
    if order.customer_id != request.user.id:
        raise NotFound(f"Order {order_id} does not exist.")
    return order


class PaymentDeclined(DomainError):
    code = "payment_declined"


class OrderPayApi(APIView):
    """Pay a pending order with a gateway token; honours Idempotency-Key."""

    permission_classes = [IsCustomer]

    class InputSerializer(StrictSerializer):
        payment_token = StrictCharField(max_length=200)

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
        return idempotent(
            self, request, lambda: self.pay(request, order_id, body.validated_data["payment_token"])
        )

    def pay(self, request: Request, order_id: UUID, token: str) -> Response:
        order = own_order(request, order_id)
        if order.status != PENDING_PAYMENT:
            raise illegal(order.status, "paid")
        context = command_context(request)
        key = request.headers.get("Idempotency-Key") or context.request_id or ""
        charge = gateway().charge(
            amount=order.total,
            currency=settings.CURRENCY,
            token=token,
            reference=str(order.id),
            idempotency_key=f"{order.id}:{key}",
        )
        if charge.outcome is Outcome.DECLINED:
            shop().record_payment_declined(
                order.id, charge_id=charge.id, reason=charge.failure_reason, context=context
            )
            raise PaymentDeclined("The payment was declined.", {"reason": charge.failure_reason})
        if charge.outcome is Outcome.PENDING:
            saved = shop().record_payment_pending(order.id, charge_id=charge.id, context=context)
            return Response(
                {"order_id": str(order.id), "status": "payment_pending", "version": saved.version},
                status=status.HTTP_202_ACCEPTED,
            )
        saved = shop().pay_order(order.id, charge_id=charge.id, context=context)
        return Response({"order_id": str(order.id), "status": "paid", "version": saved.version})


class OrderCancelApi(APIView):
    """The owning customer cancels before shipping; admins cancel any cancellable order."""

    permission_classes = [IsAuthenticatedUser]

    @extend_schema(request=None, responses={200: OrderStatusSerializer, **errors(409)})
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        if request.user.role == Role.ADMIN:
            order = shop().get_order(order_id)
        elif request.user.role == Role.CUSTOMER:
            order = own_order(request, order_id)
        else:
            raise NotFound(f"Order {order_id} does not exist.")
        saved = shop().cancel_order(
            order.id, reason=f"by {request.user.role}", context=command_context(request)
        )
        return Response(
            {"order_id": str(order.id), "status": "cancelled", "version": saved.version}
        )


class OrderStatusApi(APIView):
    """Sellers of every line (or admins) move an order through fulfilment."""

    permission_classes = [IsSellerOrAdmin]

    class InputSerializer(StrictSerializer):
        status = serializers.ChoiceField(choices=sorted(set(FULFILMENT.values())))

    @extend_schema(request=InputSerializer, responses={200: OrderStatusSerializer, **errors(409)})
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = shop().get_order(order_id)
        if request.user.role == Role.SELLER:
            if request.user.id not in order.seller_ids:
                raise NotFound(f"Order {order_id} does not exist.")
            if order.seller_ids != {request.user.id}:
                self.permission_denied(request, "Another seller also has lines in this order.")
        wanted = body.validated_data["status"]
        saved = shop().advance_order(order.id, status=wanted, context=command_context(request))
        return Response({"order_id": str(order.id), "status": wanted, "version": saved.version})
