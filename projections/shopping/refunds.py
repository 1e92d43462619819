"""Refund rows of orders and their payment status, folded by the shopping projector.

A batch loads the refund rows of its orders once, folds refund events into them in memory
and writes them back in one statement; the order row's payment status and refunded total
move with them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from contracts import event_types as events
from contracts import payloads
from projections.shopping.models import OrderRefundView, OrderView

Envelope = dict[str, Any]
REFUND_EVENTS = {
    events.ORDER_REFUND_REQUESTED,
    events.ORDER_REFUND_PENDING,
    events.ORDER_REFUND_SUCCEEDED,
    events.ORDER_REFUND_FAILED,
}
STATUS_OF = {
    events.ORDER_REFUND_PENDING: "pending",
    events.ORDER_REFUND_SUCCEEDED: "succeeded",
    events.ORDER_REFUND_FAILED: "failed",
}
REFUND_FIELDS = ["status"]


class RefundRows:
    """The refund rows of one batch's orders, changed in memory, then written at once."""

    def __init__(self, order_ids: list[str]) -> None:
        self.rows = {str(r.id): r for r in OrderRefundView.objects.filter(order_id__in=order_ids)}
        self.changed: dict[str, OrderRefundView] = {}

    def fold(self, order: OrderView, envelope: Envelope) -> None:
        """Apply one refund event (or OrderPaid) to the order row and its refund rows."""
        kind = envelope["type"]
        if kind == events.ORDER_PAID:
            order.payment_status = payment_status(order)
            return
        if kind not in REFUND_EVENTS:
            return
        refund_id = str(envelope["data"]["refund_id"])
        if kind == events.ORDER_REFUND_REQUESTED:
            self.changed[refund_id] = self.rows[refund_id] = _requested(order, envelope)
            return
        row = self.rows[refund_id]
        row.status = STATUS_OF[kind]
        self.changed[refund_id] = row
        if kind == events.ORDER_REFUND_SUCCEEDED:
            order.refunded_total = Decimal(order.refunded_total) + row.amount
            order.payment_status = payment_status(order)

    def write(self) -> None:
        OrderRefundView.objects.bulk_create(
            list(self.changed.values()),
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=REFUND_FIELDS,
        )


def payment_status(order: OrderView) -> str:
    refunded = Decimal(order.refunded_total)
    if not refunded:
        return "paid"
    return "refunded" if refunded >= Decimal(order.total) else "partially_refunded"


def _requested(order: OrderView, envelope: Envelope) -> OrderRefundView:
    data = cast(payloads.OrderRefundRequested, envelope["data"])
    return OrderRefundView(
        id=data["refund_id"],
        order=order,
        amount=Decimal(data["amount"]),
        status="requested",  # the gateway has not answered yet: shown as pending
        reason=data["reason"],
        product_ids=[str(pid) for pid in data["product_ids"]],
        at=envelope["occurred_at"],
        by=envelope["actor"]["id"] or "",
        by_role=envelope["actor"]["role"] or "",
    )
