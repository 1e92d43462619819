"""Selectors for carts and orders: `<entity>_<query>`, scoped to what the caller may see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from projections.catalog.models import ProductView
from projections.shopping.models import CartLineView, CartView, OrderView
from read_api.seller_scope import (
    fulfilments_visible,
    is_seller,
    lines_visible,
    orders_of_seller,
    subtotal,
    visible_total,
)
from read_api.snapshot import one_snapshot


def cart_get(customer_id: UUID) -> dict[str, Any]:
    """The cart with current names and prices (the order fixes them at checkout); its lines
    and version from one snapshot, so the version names the lines shown."""
    with one_snapshot():
        lines = list(CartLineView.objects.filter(customer_id=customer_id).order_by("product_id"))
        ids = [line.product_id for line in lines]
        products = {p.id: p for p in ProductView.objects.filter(id__in=ids)}
        cart = CartView.objects.filter(customer_id=customer_id).first()
    items = []
    for line in lines:
        product = products.get(line.product_id)
        price = product.price if product else None
        items.append(
            {
                "product_id": str(line.product_id),
                "name": product.name if product else None,
                "quantity": line.quantity,
                "unit_price": str(price) if price is not None else None,
                "line_total": str(price * line.quantity) if price is not None else None,
            }
        )
    total = sum((Decimal(i["line_total"]) for i in items if i["line_total"]), Decimal("0.00"))
    return {"items": items, "total": str(total), "version": cart.version if cart else 0}


def cart_version(cart_id: UUID) -> int | None:
    return CartView.objects.filter(cart_id=cart_id).values_list("version", flat=True).first()


def order_version(order_id: UUID) -> int | None:
    return OrderView.objects.filter(id=order_id).values_list("version", flat=True).first()


def order_list_visible(user: Any) -> QuerySet[OrderView]:
    """Customers see their orders, sellers orders holding their products, admins all."""
    orders = OrderView.objects.all()
    if user.role == "customer":
        return orders.filter(customer_id=user.id)
    if is_seller(user):
        return orders_of_seller(user)
    return orders


def order_get_tracking(user: Any, order_id: UUID) -> dict[str, Any] | None:
    """The order as the caller may see it: a seller only its lines, subtotal and parcels."""
    with one_snapshot():
        order = (
            order_list_visible(user)
            .filter(id=order_id)
            .prefetch_related("lines", "history", "fulfilments", "refunds")
            .first()
        )
    if order is None:
        return None
    lines = lines_visible(user, order.lines.all())
    return {
        "id": str(order.id),
        "status": order.status,
        "payment": order.payment,
        "items": [
            {
                "product_id": str(line.product_id),
                "name": line.name,
                "unit_price": str(line.unit_price),
                "quantity": line.quantity,
                "line_total": str(line.unit_price * line.quantity),
                "seller_id": str(line.seller_id) if line.seller_id else None,
                "category_id": str(line.category_id) if line.category_id else None,
            }
            for line in lines
        ],
        "total": str(visible_total(order)),
        "currency": order.currency,
        "subtotal": str(subtotal(lines)),
        "shipping_address": order.shipping_address,
        "fulfilments": fulfilments_visible(order.fulfilments.all(), lines),
        "status_history": [
            {
                "status": h.status,
                "at": h.at.isoformat(),
                "by": h.by or None,
                "by_role": h.by_role or None,
            }
            for h in order.history.all()
        ],
        **order_refunds(order, user),
        "created_at": order.created_at.isoformat(),
        "version": order.version,
    }


def order_refunds(order: OrderView, user: Any) -> dict[str, Any]:
    """What was paid and given back: the payment status, the refunded total, each refund.

    A seller sees only refunds of its own lines, and their total: the others' amounts, and
    refunds of the whole order, would tell the prices of lines it does not sell.
    """
    refunds = list(order.refunds.all())
    refunded_total = order.refunded_total
    if user.role == "seller":
        own = {str(line.product_id) for line in order.lines.all() if line.seller_id == user.id}
        refunds = [r for r in refunds if r.product_ids and set(r.product_ids) <= own]
        refunded_total = sum(
            (r.amount for r in refunds if r.status == "succeeded"), Decimal("0.00")
        )
    return {
        "payment_status": order.payment_status,
        "refunded_total": str(refunded_total),
        "refunds": [
            {
                "id": str(refund.id),
                "amount": str(refund.amount),
                "status": "pending" if refund.status == "requested" else refund.status,
                "reason": refund.reason,
                "at": refund.at.isoformat(),
            }
            for refund in refunds
        ],
    }


def order_summary(order: OrderView) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "status": order.status,
        "total": str(visible_total(order)),
        "created_at": order.created_at.isoformat(),
    }
