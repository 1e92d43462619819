"""Shopping projector: cart lines and order tracking rows (with status history) in PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from contracts import event_types as events
from contracts import payloads
from projections.shopping.models import (
    CartLineView,
    CartView,
    OrderLineView,
    OrderStatusChange,
    OrderView,
)
from projections.shopping.order_status import PENDING_PAYMENT, payment_after, status_after

Envelope = dict[str, Any]


class ShoppingProjector:
    """Folds Cart and Order events into rows; versions make re-delivery a no-op."""

    name = "shopping"
    aggregate_types = ("Cart", "Order")

    def apply(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            handler = self._cart if envelope["aggregate_type"] == "Cart" else self._order
            handler(envelope)

    # -- carts ------------------------------------------------------------------
    def _cart(self, envelope: Envelope) -> None:
        data, kind = envelope["data"], envelope["type"]
        if kind == events.CART_CREATED:
            CartView.objects.get_or_create(
                customer_id=cast(payloads.CartCreated, data)["customer_id"],
                defaults={"cart_id": envelope["aggregate_id"], "version": 0},
            )
        cart = CartView.objects.select_for_update().get(cart_id=envelope["aggregate_id"])
        if envelope["version"] <= cart.version:
            return
        lines = CartLineView.objects.filter(customer_id=cart.customer_id)
        if kind == events.CART_QUANTITY_SET:
            line = cast(payloads.CartQuantitySet, data)
            lines.update_or_create(
                customer_id=cart.customer_id,
                product_id=line["product_id"],
                defaults={"quantity": line["quantity"]},
            )
        elif kind == events.CART_ITEM_REMOVED:
            removed = cast(payloads.CartItemRemoved, data)
            lines.filter(product_id=removed["product_id"]).delete()
        elif kind == events.CART_CHECKED_OUT:
            lines.delete()
        cart.version = envelope["version"]
        cart.save(update_fields=["version"])

    # -- orders -----------------------------------------------------------------
    def _order(self, envelope: Envelope) -> None:
        if envelope["type"] == events.ORDER_PLACED:
            self._placed(envelope)
            return
        order = OrderView.objects.select_for_update().get(id=envelope["aggregate_id"])
        if envelope["version"] <= order.version:
            return
        payment = payment_after(envelope["type"])
        if payment:
            order.payment = payment
        status = status_after(envelope["type"], envelope["data"])
        if status:
            order.status = status
            _history(order, envelope, status)
        order.version, order.updated_at = envelope["version"], envelope["occurred_at"]
        order.save()

    def _placed(self, envelope: Envelope) -> None:
        if OrderView.objects.filter(id=envelope["aggregate_id"]).exists():
            return
        data = cast(payloads.OrderPlaced, envelope["data"])
        order = OrderView.objects.create(
            id=envelope["aggregate_id"],
            customer_id=data["customer_id"],
            status=PENDING_PAYMENT,
            total=data["total"],
            shipping_address=data["shipping_address"],
            created_at=envelope["occurred_at"],
            updated_at=envelope["occurred_at"],
            version=envelope["version"],
        )
        OrderLineView.objects.bulk_create(
            OrderLineView(
                order=order,
                product_id=line["product_id"],
                name=line["name"],
                unit_price=line["unit_price"],
                quantity=line["quantity"],
                seller_id=line["seller_id"],
            )
            for line in data["lines"]
        )
        _history(order, envelope, PENDING_PAYMENT)


def _history(order: OrderView, envelope: Envelope, status: str) -> None:
    OrderStatusChange.objects.create(
        order=order,
        status=status,
        at=envelope["occurred_at"],
        by=envelope["actor"]["id"] or "",
        by_role=envelope["actor"]["role"] or "",
        version=envelope["version"],
    )
