"""An order's status and payment state as its events move them: the one fold of both,
used by the shopping projector (order rows) and the read API's history (orders as of a time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import event_types as events

PENDING_PAYMENT = "pending_payment"
STATUS_OF = {
    events.ORDER_PLACED: PENDING_PAYMENT,
    events.ORDER_PAID: "paid",
    events.ORDER_CANCELLED: "cancelled",
}
STATUS_CHANGED = events.ORDER_STATUS_CHANGED
# Other Order events (PaymentResumed) leave the payment state as it is.
PAYMENT_OF = {
    events.ORDER_PAYMENT_STARTED: "pending",
    events.ORDER_PAYMENT_FAILED: "declined",
    events.ORDER_PAYMENT_PENDING: "pending",
    events.ORDER_PAYMENT_AUTHORISED: "pending",
    events.ORDER_PAYMENT_VOIDED: "voided",
    events.ORDER_PAID: "captured",
}


def status_after(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The status an Order event moves its order to; None if it leaves the status alone."""
    if event_type == STATUS_CHANGED:
        status: str | None = data.get("status")
        return status
    return STATUS_OF.get(event_type)


def payment_after(event_type: str) -> str | None:
    """The payment state an Order event moves its order to; None if it leaves it alone."""
    return PAYMENT_OF.get(event_type)
