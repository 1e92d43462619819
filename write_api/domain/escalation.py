"""The Escalation aggregate: a customer's complaint about a paid order, its messages, its end.

An order's escalations are numbered 1, 2, 3, ... and each one's id derives from the order id
and its number. Opening the next one therefore creates a known stream: two concurrent
openings collide on it, and only one is saved (write_api/escalation_commands.py).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from write_api.domain.limits import COMMENT_MAX, ORDER_TOTAL_MAX, text_errors
from write_api.domain.metadata import CommandContext
from write_api.domain.order import CANCELLED, PENDING_PAYMENT, Order

ESCALATION_NAMESPACE = uuid.UUID("0f6b8e4c-5a3d-4c2b-9e1f-7a8b6c5d4e3f")
REFUND_NAMESPACE = uuid.UUID("3c9d2e1f-8b7a-4f6e-a5d4-c3b2a1f0e9d8")
REASONS = ("not_received", "damaged", "wrong_item", "not_as_described", "other")
OPEN, RESOLVED = "open", "resolved"
STATUSES = (OPEN, RESOLVED)
REFUND, REJECT = "refund", "reject"
RESOLUTIONS = (REFUND, REJECT)
MESSAGE_MAX = COMMENT_MAX
Metadata = dict[str, str | None]


def escalation_id(order_id: UUID, number: int) -> UUID:
    """The id of an order's `number`-th escalation."""
    return uuid.uuid5(ESCALATION_NAMESPACE, f"{order_id}:{number}")


def refund_id_for(escalation: UUID) -> UUID:
    """The one refund an escalation may cause: a retried resolution finds the same refund."""
    return uuid.uuid5(REFUND_NAMESPACE, str(escalation))


def message_errors(message: object) -> list[str]:
    if not isinstance(message, str):
        return ["Must be text."]
    if not message.strip():
        return ["Must not be empty."]
    return text_errors(message, min_length=1, max_length=MESSAGE_MAX, multiline=True)


def amount_errors(amount: Decimal) -> list[str]:
    """A refund amount is positive money with exactly two places, e.g. "12.50"."""
    if not amount.is_finite() or amount.as_tuple().exponent != -2:
        return ['Must be a decimal with exactly two places, e.g. "12.50".']
    if not Decimal("0.01") <= amount <= ORDER_TOTAL_MAX:
        return [f"Must be 0.01 to {ORDER_TOTAL_MAX}."]
    return []


def check_resolution(
    *, resolution: str, amount: Decimal | None, restock: bool | None, message: str
) -> None:
    """A refund names its amount; a rejection has neither amount nor restock (400 if not)."""
    errors: dict[str, list[str]] = {}
    if resolution not in RESOLUTIONS:
        errors["resolution"] = [f"Must be one of: {', '.join(RESOLUTIONS)}."]
    elif resolution == REFUND and amount is None:
        errors["amount"] = ["A refund needs an amount."]
    elif resolution == REFUND and amount is not None and (found := amount_errors(amount)):
        errors["amount"] = found
    elif resolution == REJECT:
        if amount is not None:
            errors["amount"] = ["A rejection refunds nothing: leave the amount out."]
        if restock is not None:
            errors["restock"] = ["A rejection restocks nothing: leave restock out."]
    if found := message_errors(message):
        errors["message"] = found
    if errors:
        raise ValidationFailed("The resolution is invalid.", errors)


class Escalation(Aggregate):
    """A customer's complaint about one order, discussed by its parties and resolved by an admin."""

    TOPIC = "shopstream.escalation"

    class Created(Aggregate.Created):
        """Never recorded (escalations start with Opened); with explicit topics the library's
        Created class needs its own topic too."""

        TOPIC = "shopstream.escalation.Created"

    @staticmethod
    def create_id(order_id: UUID, number: int, **_: object) -> UUID:
        return escalation_id(order_id, number)

    @classmethod
    def open(
        cls,
        order: Order,
        *,
        number: int,
        customer_id: UUID,
        reason: str,
        message: str,
        context: CommandContext,
    ) -> Escalation:
        """The order's `number`-th escalation. Only its customer opens one, and only once the
        order is paid: unpaid or cancelled orders have nothing to escalate."""
        errors: dict[str, list[str]] = {}
        if reason not in REASONS:
            errors["reason"] = [f"Must be one of: {', '.join(REASONS)}."]
        if found := message_errors(message):
            errors["message"] = found
        if errors:
            raise ValidationFailed("The escalation is invalid.", errors)
        if order.customer_id != customer_id:
            raise NotFound(f"Order {order.id} does not exist.")
        if order.status in (PENDING_PAYMENT, CANCELLED):
            raise Conflict(
                f"A {order.status} order cannot be escalated; only paid ones can.",
                {"status": [order.status]},
                code="order_not_escalatable",
            )
        opened: Escalation = cls(
            order_id=order.id,
            number=number,
            customer_id=customer_id,
            seller_ids=sorted(order.seller_ids, key=str),
            reason=reason,
            message=message,
            metadata=context.as_event_metadata(),
        )
        return opened

    @event("Opened", topic="shopstream.escalation.Opened")
    def __init__(
        self,
        *,
        order_id: UUID,
        number: int,
        customer_id: UUID,
        seller_ids: list[UUID],
        reason: str,
        message: str,
        metadata: Metadata,
    ) -> None:
        self.order_id = order_id
        self.number = number
        self.customer_id = customer_id
        self.seller_ids = seller_ids
        self.reason = reason
        self.status = OPEN
        self.resolution: dict[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def check_party(self, *, user_id: UUID, role: str) -> None:
        """Its customer, the order's sellers and admins take part; a stranger customer learns
        nothing (404), a seller without a line in the order is refused (403)."""
        if role == "admin":
            return
        if role == "customer" and user_id == self.customer_id:
            return
        if role == "seller":
            if user_id in self.seller_ids:
                return
            raise Forbidden("Only the order's sellers take part in its escalation.")
        raise NotFound(f"Escalation {self.id} does not exist.")

    def post_message(
        self, *, author_id: UUID, role: str, message: str, context: CommandContext
    ) -> None:
        self.check_party(user_id=author_id, role=role)
        if found := message_errors(message):
            raise ValidationFailed("The message is invalid.", {"message": found})
        self._require_open()
        self._message_posted(
            order_id=self.order_id, message=message, metadata=context.as_event_metadata()
        )

    @event("MessagePosted", topic="shopstream.escalation.MessagePosted")
    def _message_posted(self, *, order_id: UUID, message: str, metadata: Metadata) -> None:
        """Who wrote it is the event's actor."""

    def check_resolvable(
        self, *, resolution: str, amount: Decimal | None, restock: bool | None, message: str
    ) -> None:
        """Everything a resolution needs, checked before any money moves."""
        check_resolution(resolution=resolution, amount=amount, restock=restock, message=message)
        self._require_open()

    def resolve(
        self,
        *,
        resolution: str,
        message: str,
        context: CommandContext,
        restock: bool | None = None,
        refund: dict[str, Any] | None = None,
    ) -> None:
        """Close it. `refund` ({id, amount, status}) is the refund already made for a refund
        resolution: money moves first, so a retry finds that refund rather than making another."""
        amount = refund["amount"] if refund else None
        self.check_resolvable(
            resolution=resolution, amount=amount, restock=restock, message=message
        )
        if (resolution == REFUND) != (refund is not None):
            raise AssertionError("a refund resolution records its refund, a rejection none")
        self._resolved(
            order_id=self.order_id,
            resolution=resolution,
            message=message,
            restock=bool(restock),
            refund=refund,
            metadata=context.as_event_metadata(),
        )

    @event("Resolved", topic="shopstream.escalation.Resolved")
    def _resolved(
        self,
        *,
        order_id: UUID,
        resolution: str,
        message: str,
        restock: bool,
        refund: dict[str, Any] | None,
        metadata: Metadata,
    ) -> None:
        self.status = RESOLVED
        self.resolution = {"resolution": resolution, "refund": refund}

    def _require_open(self) -> None:
        if not self.is_open:
            raise Conflict(
                "This escalation is resolved already.",
                {"status": [self.status]},
                code="escalation_resolved",
            )
