"""What of an order a seller may read: only its own lines, their subtotal and its parcels.

A marketplace order may hold several sellers' lines; no seller reads another's lines, prices
or parcels, nor the order's full total. Customers and admins read the whole order.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum

from projections.shopping.models import OrderFulfilmentView, OrderLineView, OrderView


def is_seller(user: Any) -> bool:
    return bool(user.role == "seller")


def orders_of_seller(user: Any) -> QuerySet[OrderView]:
    """Orders holding the seller's lines, each with `seller_subtotal`: those lines' sum
    (the filter and the sum share one join, so only the seller's lines are added up)."""
    line_total = ExpressionWrapper(
        F("lines__unit_price") * F("lines__quantity"),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )
    return OrderView.objects.filter(lines__seller_id=user.id).annotate(
        seller_subtotal=Sum(line_total)
    )


def visible_total(order: OrderView) -> Decimal:
    """The seller's subtotal on a row of `orders_of_seller`, the order's total otherwise."""
    subtotal: Decimal | None = getattr(order, "seller_subtotal", None)
    return order.total if subtotal is None else subtotal


def lines_visible(user: Any, lines: Iterable[OrderLineView]) -> list[OrderLineView]:
    return [line for line in lines if not is_seller(user) or line.seller_id == user.id]


def subtotal(lines: Iterable[OrderLineView]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))


def fulfilments_visible(
    fulfilments: Iterable[OrderFulfilmentView], lines: list[OrderLineView]
) -> list[dict[str, Any]]:
    """The parcels carrying any of `lines`, each listing only those lines."""
    visible = {str(line.product_id) for line in lines}
    return [
        fulfilment_body(f, [pid for pid in f.product_ids if pid in visible])
        for f in fulfilments
        if visible.intersection(f.product_ids)
    ]


def fulfilment_body(fulfilment: OrderFulfilmentView, product_ids: list[str]) -> dict[str, Any]:
    return {
        "id": str(fulfilment.id),
        "product_ids": product_ids,
        "status": fulfilment.status,
        "carrier": fulfilment.carrier or None,
        "tracking_number": fulfilment.tracking_number or None,
        "shipped_at": fulfilment.shipped_at.isoformat(),
        "delivered_at": fulfilment.delivered_at.isoformat() if fulfilment.delivered_at else None,
    }
