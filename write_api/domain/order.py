"""The Order aggregate: what was bought, for how much, and where it is in its life."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import Conflict, ValidationFailed
from write_api.domain.limits import ADDRESS_FIELDS, ORDER_TOTAL_MAX, text_errors
from write_api.domain.metadata import CommandContext

Metadata = dict[str, str | None]
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


def check_shipping_address(address: dict[str, Any]) -> None:
    """Raise ValidationFailed naming each address field that is unknown, missing or unclean."""
    errors: dict[str, list[str]] = {
        field: ["Not an address field."] for field in sorted(set(address) - set(ADDRESS_FIELDS))
    }
    for field, (low, high) in ADDRESS_FIELDS.items():
        value = address.get(field, "")
        if not isinstance(value, str):
            errors[field] = ["Must be text."]
        elif found := text_errors(value, min_length=low, max_length=high):
            errors[field] = found
    if errors:
        raise ValidationFailed("The shipping address is invalid.", {"shipping_address": errors})


class Order(Aggregate):
    """A customer's order: lines priced at checkout, a shipping address, a status."""

    TOPIC = "shopstream.order"

    class Created(Aggregate.Created):
        """Never recorded (orders start with Placed), but the library defines it on every
        aggregate, and with explicit topics each defined event class needs its own."""

        TOPIC = "shopstream.order.Created"

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        return order_id

    @classmethod
    def place(
        cls,
        *,
        order_id: UUID,
        customer_id: UUID,
        lines: list[dict[str, Any]],
        shipping_address: dict[str, Any],
        context: CommandContext,
    ) -> Order:
        """An order for priced lines; its total is their sum, within what any order may cost."""
        check_shipping_address(shipping_address)
        total = sum((line["unit_price"] * line["quantity"] for line in lines), Decimal("0.00"))
        if total > ORDER_TOTAL_MAX:
            # Unreachable with today's price and quantity limits; older products may exceed them.
            raise Conflict(
                f"An order may cost at most {ORDER_TOTAL_MAX}.",
                {"total": [f"{total} is above {ORDER_TOTAL_MAX}."]},
                code="order_total_too_large",
            )
        return cls(
            order_id=order_id,
            customer_id=customer_id,
            lines=lines,
            total=total,
            shipping_address=shipping_address,
            metadata=context.as_event_metadata(),
        )

    @event("Placed", topic="shopstream.order.Placed")
    def __init__(
        self,
        *,
        order_id: UUID,
        customer_id: UUID,
        lines: list[dict[str, Any]],
        total: Decimal,
        shipping_address: dict[str, Any],
        metadata: Metadata,
    ) -> None:
        self.customer_id = customer_id
        self.lines = lines
        self.total = total
        self.shipping_address = shipping_address
        self.status = PENDING_PAYMENT
        self.payment_pending_charge: str | None = None
        self.charge_id: str | None = None

    @property
    def seller_ids(self) -> set[UUID]:
        return {line["seller_id"] for line in self.lines}

    @property
    def quantities(self) -> dict[UUID, int]:
        return {line["product_id"]: line["quantity"] for line in self.lines}

    def record_payment_declined(
        self, *, charge_id: str, reason: str, context: CommandContext
    ) -> None:
        self._require(PENDING_PAYMENT, "paid")
        self._payment_failed(
            charge_id=charge_id, reason=reason, metadata=context.as_event_metadata()
        )

    @event("PaymentFailed", topic="shopstream.order.PaymentFailed")
    def _payment_failed(self, *, charge_id: str, reason: str, metadata: Metadata) -> None:
        self.payment_pending_charge = None

    def record_payment_pending(self, *, charge_id: str, context: CommandContext) -> None:
        self._require(PENDING_PAYMENT, "paid")
        self._payment_pending(charge_id=charge_id, metadata=context.as_event_metadata())

    @event("PaymentPending", topic="shopstream.order.PaymentPending")
    def _payment_pending(self, *, charge_id: str, metadata: Metadata) -> None:
        self.payment_pending_charge = charge_id

    def mark_paid(self, *, charge_id: str, context: CommandContext) -> None:
        self._require(PENDING_PAYMENT, PAID)
        self._paid(charge_id=charge_id, metadata=context.as_event_metadata())

    @event("Paid", topic="shopstream.order.Paid")
    def _paid(self, *, charge_id: str, metadata: Metadata) -> None:
        self.status = PAID
        self.charge_id = charge_id
        self.payment_pending_charge = None

    def advance(self, *, status: str, context: CommandContext) -> None:
        """Move along fulfilment: paid -> processing -> shipped -> delivered."""
        if FULFILMENT.get(self.status) != status:
            raise illegal(self.status, status)
        self._status_changed(status=status, metadata=context.as_event_metadata())

    @event("StatusChanged", topic="shopstream.order.StatusChanged")
    def _status_changed(self, *, status: str, metadata: Metadata) -> None:
        self.status = status

    def is_overdue(self, now: datetime, timeout: timedelta) -> bool:
        """Unpaid for longer than `timeout`, with no charge still pending at the gateway."""
        return (
            self.status == PENDING_PAYMENT
            and self.payment_pending_charge is None
            and now - self.created_on >= timeout
        )

    def cancel(self, *, reason: str, context: CommandContext) -> None:
        if self.status not in CANCELLABLE:
            raise illegal(self.status, CANCELLED)
        self._cancelled(reason=reason, previous=self.status, metadata=context.as_event_metadata())

    @event("Cancelled", topic="shopstream.order.Cancelled")
    def _cancelled(self, *, reason: str, previous: str, metadata: Metadata) -> None:
        self.status = CANCELLED

    def _require(self, status: str, wanted: str) -> None:
        if self.status != status:
            raise illegal(self.status, wanted)
