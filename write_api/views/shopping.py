"""Cart and checkout commands (customers only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import errors
from write_api.application import CartLines, shop
from write_api.commands import idempotency
from write_api.context import acting_user, command_context
from write_api.domain.limits import ADDRESS_FIELDS, QUANTITY_MAX
from write_api.domain.order import Order
from write_api.fields import StrictCharField, StrictIntegerField
from write_api.permissions import IsCustomer
from write_api.serializers import StrictSerializer
from write_api.views.openapi import IDEMPOTENCY_KEY, CartSerializer, OrderPlacedSerializer


def cart_body(cart: CartLines) -> dict[str, Any]:
    """The cart as the command saved it."""
    return {
        "id": str(cart.id),
        "version": cart.version,
        "items": [{"product_id": str(pid), "quantity": q} for pid, q in sorted(cart.lines.items())],
    }


class CartItemAddApi(APIView):
    """Add units of a product to the caller's cart."""

    permission_classes = [IsCustomer]
    throttle_scope = "cart"

    class InputSerializer(StrictSerializer):
        product_id = serializers.UUIDField()
        quantity = StrictIntegerField(min_value=1, max_value=QUANTITY_MAX)

    @extend_schema(request=InputSerializer, responses={200: CartSerializer, **errors(404, 409)})
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cart = shop().add_to_cart(
            customer_id=acting_user(request).id,
            **body.validated_data,
            context=command_context(request),
        )
        return Response(cart_body(cart))


class CartItemApi(APIView):
    """Change a line's quantity (0 removes it) or remove the line."""

    permission_classes = [IsCustomer]
    throttle_scope = "cart"

    class InputSerializer(StrictSerializer):
        quantity = StrictIntegerField(min_value=0, max_value=QUANTITY_MAX)

    @extend_schema(request=InputSerializer, responses={200: CartSerializer, **errors(409)})
    def patch(self, request: Request, version: str, product_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cart = shop().set_cart_quantity(
            customer_id=acting_user(request).id,
            product_id=product_id,
            quantity=body.validated_data["quantity"],
            context=command_context(request),
        )
        return Response(cart_body(cart))

    @extend_schema(request=None, responses={200: CartSerializer, **errors(409)})
    def delete(self, request: Request, version: str, product_id: UUID) -> Response:
        cart = shop().remove_from_cart(
            customer_id=acting_user(request).id,
            product_id=product_id,
            context=command_context(request),
        )
        return Response(cart_body(cart))


def address_field(field: str) -> StrictCharField:
    low, high = ADDRESS_FIELDS[field]
    if low == 0:
        return StrictCharField(max_length=high, required=False, allow_blank=True, default="")
    return StrictCharField(min_length=low, max_length=high)


class AddressSerializer(StrictSerializer):
    name = address_field("name")
    line1 = address_field("line1")
    line2 = address_field("line2")
    city = address_field("city")
    postcode = address_field("postcode")
    country = address_field("country")


class CheckoutApi(APIView):
    """Turn the caller's cart into an order, reserving stock; honours Idempotency-Key."""

    permission_classes = [IsCustomer]
    throttle_scope = "checkout"

    class InputSerializer(StrictSerializer):
        shipping_address = AddressSerializer()

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OrderPlacedSerializer, **errors(404, 409, 422)},
    )
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def check_out(claim: idempotency.Claim | None) -> Response:
            order = shop().check_out(
                customer_id=acting_user(request).id,
                shipping_address=dict(body.validated_data["shipping_address"]),
                context=command_context(request),
                save_options=claim.stored_with(order_placed) if claim else None,
            )
            return order_placed(order)

        return idempotency.once(self, request, check_out)


def order_placed(order: Order) -> Response:
    body = {
        "order_id": str(order.id),
        "version": order.version,
        "status": order.status,
        "total": str(order.total),
    }
    return Response(body, status=status.HTTP_201_CREATED)
