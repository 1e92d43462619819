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
from write_api.domain.escalation_rules import (
    OPEN,
    REASONS,
    REFUND,
    REJECT,
    RESOLVED,
    amount_errors,
    check_resolution,
    message_errors,
)
from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.domain.order_status import CANCELLED, PENDING_PAYMENT

ESCALATION_NAMESPACE = uuid.UUID("0f6b8e4c-5a3d-4c2b-9e1f-7a8b6c5d4e3f")
REFUND_NAMESPACE = uuid.UUID("3c9d2e1f-8b7a-4f6e-a5d4-c3b2a1f0e9d8")
Metadata = dict[str, str | None]


def escalation_id(order_id: UUID, number: int) -> UUID:
    """The id of an order's `number`-th escalation."""
    return uuid.uuid5(ESCALATION_NAMESPACE, f"{order_id}:{number}")


def refund_id_for(escalation: UUID, attempt: int = 1) -> UUID:
    """The refund of an escalation's `attempt`-th refund resolution: a retried resolution
    finds the same refund. Only a refused refund (its claim abandoned) leads to another."""
    return uuid.uuid5(REFUND_NAMESPACE, f"{escalation}:{attempt}")


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
        # While a refund resolution is under way: {refund_id, amount, restock}.
        self.refunding: dict[str, Any] | None = None
        self.refund_attempts = 0

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

    def begin_refund(
        self, *, amount: Decimal, restock: bool | None, context: CommandContext
    ) -> UUID:
        """Claim the escalation for a refund resolution before any money moves; the id the
        refund is made under.

        Recorded first, so a concurrent rejection or another amount is refused (409
        `escalation_resolving`) rather than racing the refund; the same refund asked again
        (a retry after a crash or a timeout) resumes the claim under the same refund id.
        """
        if found := amount_errors(amount):
            raise ValidationFailed("The refund is invalid.", {"amount": found})
        self._require_open()
        claim = self.refunding
        if claim is not None:
            if (claim["amount"], claim["restock"]) != (amount, bool(restock)):
                raise self._resolving()
            refund_id: UUID = claim["refund_id"]
            return refund_id
        refund_id = refund_id_for(self.id, self.refund_attempts + 1)
        self._refund_started(
            order_id=self.order_id,
            refund_id=refund_id,
            amount=amount,
            restock=bool(restock),
            metadata=context.as_event_metadata(),
        )
        return refund_id

    @event("RefundStarted", topic="shopstream.escalation.RefundStarted")
    def _refund_started(
        self, *, order_id: UUID, refund_id: UUID, amount: Decimal, restock: bool, metadata: Metadata
    ) -> None:
        self.refunding = {"refund_id": refund_id, "amount": amount, "restock": restock}
        self.refund_attempts += 1

    def abandon_refund(self, *, refund_id: UUID, reason: str, context: CommandContext) -> bool:
        """Release the claim of a refund that was refused (too much, declined): the escalation
        is open again, and a later refund resolution gets a new refund id. False if that
        claim is no longer held."""
        claim = self.refunding
        if not self.is_open or claim is None or claim["refund_id"] != refund_id:
            return False
        self._refund_abandoned(
            order_id=self.order_id,
            refund_id=refund_id,
            reason=reason,
            metadata=context.as_event_metadata(),
        )
        return True

    @event("RefundAbandoned", topic="shopstream.escalation.RefundAbandoned")
    def _refund_abandoned(
        self, *, order_id: UUID, refund_id: UUID, reason: str, metadata: Metadata
    ) -> None:
        self.refunding = None

    def reject(self, *, message: str, context: CommandContext) -> None:
        check_resolution(resolution=REJECT, amount=None, restock=None, message=message)
        self._require_open()
        if self.refunding is not None:
            raise self._resolving()
        self._resolved(
            order_id=self.order_id,
            resolution=REJECT,
            message=message,
            restock=False,
            refund=None,
            metadata=context.as_event_metadata(),
        )

    def resolve_with_refund(
        self, *, refund: dict[str, Any], message: str, context: CommandContext
    ) -> None:
        """Close it with the refund ({id, amount, status}) made under this escalation's claim."""
        if found := message_errors(message):
            raise ValidationFailed("The resolution is invalid.", {"message": found})
        self._require_open()
        claim = self.refunding
        if claim is None or claim["refund_id"] != refund["id"]:
            raise Conflict(
                "That refund is not the one this escalation is resolving with.",
                code="escalation_resolving",
            )
        self._resolved(
            order_id=self.order_id,
            resolution=REFUND,
            message=message,
            restock=claim["restock"],
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
        self.refunding = None

    def _resolving(self) -> Conflict:
        claim = self.refunding or {}
        return Conflict(
            "A refund resolution of this escalation is under way; repeat it to complete it.",
            {"amount": [str(claim.get("amount"))], "restock": [str(claim.get("restock"))]},
            code="escalation_resolving",
        )

    def _require_open(self) -> None:
        if not self.is_open:
            raise Conflict(
                "This escalation is resolved already.",
                {"status": [self.status]},
                code="escalation_resolved",
            )
