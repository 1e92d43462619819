"""An order's status moved by hand or by time: an admin's moves along fulfilment, a
cancellation, and when an unpaid order is overdue (the expiry job cancels those).

The commands and `@event` bodies are functions whose first parameter is the order (named
`self`, as the library expects of an event body); `Order` composes them as its methods.
Fulfilment per seller moves the status too, through the same StatusChanged event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from eventsourcing.domain import event

from write_api.domain.errors import Conflict
from write_api.domain.metadata import CommandContext
from write_api.domain.order_fulfilment import require_no_fulfilments
from write_api.domain.order_status import (
    CANCELLABLE,
    CANCELLED,
    FULFILMENT,
    PENDING_PAYMENT,
    illegal,
)
from write_api.domain.payment_attempts import PaymentInProgress

if TYPE_CHECKING:
    from write_api.domain.order import Order

Metadata = dict[str, str | None]


def advance(self: Order, *, status: str, context: CommandContext) -> None:
    """Move along fulfilment: paid -> processing -> shipped -> delivered."""
    require_no_fulfilments(self)
    if FULFILMENT.get(self.status) != status:
        raise illegal(self.status, status)
    self._status_changed(status=status, metadata=context.as_event_metadata())


@event("StatusChanged", topic="shopstream.order.StatusChanged")
def status_changed(self: Order, *, status: str, metadata: Metadata) -> None:
    self.status = status


def is_overdue(self: Order, now: datetime, timeout: timedelta) -> bool:
    """Unpaid for longer than `timeout`, with no charge pending or attempt in flight.

    An attempt in flight may have been captured at the gateway: expiring its order
    could take money for a cancelled order, so it waits for the attempt's outcome.
    """
    return (
        self.status == PENDING_PAYMENT
        and self.payment_pending_charge is None
        and self.payment_attempt is None
        and now - self.created_on >= timeout
    )


def cancel(self: Order, *, reason: str, context: CommandContext) -> None:
    """Refused while a payment attempt is in flight: the gateway may be authorising or
    capturing its charge, so the attempt ends first (paid, failed or voided, by the pay call
    or the reconciliation) and money and order never disagree."""
    if self.status not in CANCELLABLE:
        raise illegal(self.status, CANCELLED)
    if self.fulfilments:
        raise Conflict(
            "Some lines of this order have shipped.",
            {"status": ["Not allowed once a line has shipped."]},
            code="illegal_transition",
        )
    if self.payment_attempt is not None or self.payment_pending_charge is not None:
        raise PaymentInProgress(
            "A payment of this order is in progress; cancel once it has ended.",
            {"status": ["A payment attempt is in flight."]},
        )
    self._cancelled(reason=reason, previous=self.status, metadata=context.as_event_metadata())


@event("Cancelled", topic="shopstream.order.Cancelled")
def cancelled(self: Order, *, reason: str, previous: str, metadata: Metadata) -> None:
    self.status = CANCELLED
