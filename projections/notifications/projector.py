"""Notifications consumer: paid and shipped orders, opened and resolved escalations become
email tasks (one per event id)."""

from __future__ import annotations

from typing import Any, Protocol

from contracts import event_types as events
from projections.notifications.escalation_emails import escalation_email_task


class Enqueue(Protocol):
    def __call__(self, **kwargs: Any) -> Any: ...


class NotificationsProjector:
    """Turns OrderPaid, OrderStatusChanged(shipped), EscalationOpened and EscalationResolved
    into Celery tasks."""

    name = "notifications"
    aggregate_types = ("Order", "Escalation")

    def __init__(self, enqueue: Enqueue) -> None:
        self.enqueue = enqueue

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        """Enqueue inside the checkpoint's transaction: a crash re-enqueues, never loses."""
        for envelope in envelopes:
            task = escalation_email_task(envelope)
            if task is not None:
                self.enqueue(**task)
                continue
            kind = notification_kind(envelope)
            if kind is not None:
                self.enqueue(
                    event_id=envelope["event_id"], kind=kind, order_id=envelope["aggregate_id"]
                )


def notification_kind(envelope: dict[str, Any]) -> str | None:
    if envelope["type"] == events.ORDER_PAID:
        return "order_paid"
    if (
        envelope["type"] == events.ORDER_STATUS_CHANGED
        and envelope["data"].get("status") == "shipped"
    ):
        return "order_shipped"
    return None
