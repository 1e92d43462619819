"""Selectors for escalations, scoped to what the caller may see: `escalation_<query>`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from contracts import event_types as events
from projections.audit.models import AuditEvent
from projections.escalations.models import EscalationView
from projections.shopping.models import OrderLineView
from read_api.snapshot import one_snapshot


def escalation_list_visible(user: Any, status: str | None = None) -> QuerySet[EscalationView]:
    """Customers see theirs, sellers those on orders with their lines, admins all; newest first."""
    rows = EscalationView.objects.all()
    if user.role == "customer":
        rows = rows.filter(customer_id=user.id)
    elif user.role == "seller":
        their_orders = OrderLineView.objects.filter(seller_id=user.id).values("order_id")
        rows = rows.filter(order_id__in=their_orders)
    elif user.role != "admin":
        rows = rows.none()
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-opened_at", "id")


def escalation_version(escalation_id: UUID) -> int | None:
    return EscalationView.objects.filter(id=escalation_id).values_list("version", flat=True).first()


def escalation_summary(row: EscalationView) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "order_id": str(row.order_id),
        "status": row.status,
        "reason": row.reason,
        "opened_at": row.opened_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


def escalation_get(user: Any, escalation_id: UUID) -> dict[str, Any] | None:
    """Its customer, the order's sellers and admins read it; to anyone else it does not exist."""
    with one_snapshot():
        row = (
            escalation_list_visible(user)
            .filter(id=escalation_id)
            .prefetch_related("messages")
            .first()
        )
    if row is None:
        return None
    return {
        **escalation_summary(row),
        "messages": [
            {
                "by": m.by or None,
                "role": m.role or None,
                "message": m.message,
                "at": m.at.isoformat(),
            }
            for m in row.messages.all()
        ],
        "resolution": row.resolution or None,
        "refund": refund_now(row),
        "version": row.version,
    }


SETTLED = {events.ORDER_REFUND_SUCCEEDED: "succeeded", events.ORDER_REFUND_FAILED: "failed"}


def refund_now(row: EscalationView) -> dict[str, Any] | None:
    """The resolution's refund with its current status: one still pending when the escalation
    was resolved is settled later by the gateway, an event of the order."""
    refund: dict[str, Any] | None = row.refund
    if refund is None or refund["status"] != "pending":
        return refund
    settled = (
        AuditEvent.objects.filter(
            aggregate_type="Order",
            aggregate_id=row.order_id,
            type__in=SETTLED,
            data__refund_id=refund["id"],
        )
        .order_by("-position")
        .values_list("type", flat=True)
        .first()
    )
    return {**refund, "status": SETTLED[settled]} if settled else refund
