"""An order's statuses, the moves between them, and the error for a move not allowed."""

from __future__ import annotations

from write_api.domain.errors import Conflict

PENDING_PAYMENT, PAID, PROCESSING, SHIPPED, DELIVERED, CANCELLED = (
    "pending_payment",
    "paid",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
)
FULFILMENT = {PAID: PROCESSING, PROCESSING: SHIPPED, SHIPPED: DELIVERED}
CANCELLABLE = {PENDING_PAYMENT, PAID, PROCESSING}


def illegal(current: str, wanted: str) -> Conflict:
    return Conflict(
        f"An order cannot go from {current} to {wanted}.",
        {"status": [f"Not allowed from {current}."]},
        code="illegal_transition",
    )


def require(current: str, status: str, wanted: str) -> None:
    """Refuse to move to `wanted` unless the order is in `status`."""
    if current != status:
        raise illegal(current, wanted)
