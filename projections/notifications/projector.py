"""Notifications consumer: paid and shipped orders, opened and resolved escalations become
email tasks (one per event id)."""

from __future__ import annotations

from typing import Any, Protocol

from adapters.tracing import continuing
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
        """Enqueue inside the checkpoint's transaction: a crash re-enqueues, never loses.

        Each task is enqueued in the event's trace (its publish span is a child of the
        event's `traceparent`), so the email shows in the trace of the command behind it.
        """
        for envelope in envelopes:
            task = self.task_of(envelope)
            if task is not None:
                with continuing(f"notify {envelope['type']}", envelope.get("traceparent")):
                    self.enqueue(**task)

    @staticmethod
    def task_of(envelope: dict[str, Any]) -> dict[str, Any] | None:
        """The email task's arguments for an event, None if it sends nothing."""
        task = escalation_email_task(envelope)
        if task is not None:
            return task
        kind = notification_kind(envelope)
        if kind is None:
            return None
        order_id = envelope["aggregate_id"]
        return {"event_id": envelope["event_id"], "kind": kind, "order_id": order_id}


def notification_kind(envelope: dict[str, Any]) -> str | None:
    if envelope["type"] == events.ORDER_PAID:
        return "order_paid"
    if (
        envelope["type"] == events.ORDER_STATUS_CHANGED
        and envelope["data"].get("status") == "shipped"
    ):
        return "order_shipped"
    return None
