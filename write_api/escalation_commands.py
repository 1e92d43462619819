"""Escalation commands: open one on an order, write on it, record its resolution.

At most one escalation of an order is open at a time, exactly, whatever the concurrency:
an order's escalations live in the streams escalation_id(order, 1), (order, 2), ..., and a
new one is created in the first unused stream only when the one before it is resolved. Two
concurrent openings create the same stream; the loser's save conflicts, and its retry finds
the winner's escalation open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from write_api.domain.errors import Conflict
from write_api.domain.escalation import Escalation, escalation_id
from write_api.domain.metadata import CommandContext
from write_api.results import Saved
from write_api.store import Decision, ShopStore


@dataclass(frozen=True)
class RefundClaim:
    """A refund resolution under way: the escalation, its order and reason, the refund's id."""

    escalation_id: UUID
    order_id: UUID
    reason: str
    refund_id: UUID
    restock: bool


class EscalationOpen(Conflict):
    """The order has an open escalation: write on it rather than opening another."""

    code = "escalation_open"


class EscalationCommands(ShopStore):
    """Each command saves the escalation it changes with optimistic concurrency."""

    def get_escalation(self, escalation: UUID) -> Escalation:
        return self._get(escalation, Escalation, "Escalation")

    def open_escalation(
        self,
        order_id: UUID,
        *,
        customer_id: UUID,
        reason: str,
        message: str,
        context: CommandContext,
    ) -> Saved:
        def attempt() -> tuple[Sequence[Aggregate], Saved]:
            order = self.get_order(order_id)
            number, latest = self._latest_escalation(order_id)
            opened = Escalation.open(
                order,
                number=number + 1,
                customer_id=customer_id,
                reason=reason,
                message=message,
                context=context,
            )
            if latest is not None and latest.is_open:
                raise EscalationOpen(
                    "This order has an open escalation already.",
                    {"escalation_id": str(latest.id)},
                )
            return [opened], Saved(opened.id, opened.version)

        return self._retrying(attempt)

    def _latest_escalation(self, order_id: UUID) -> tuple[int, Escalation | None]:
        """The number and state of the order's latest escalation (0, None if it has none)."""
        number, latest = 0, None
        while (found := self._load(escalation_id(order_id, number + 1), Escalation)) is not None:
            assert isinstance(found, Escalation)
            number, latest = number + 1, found
        return number, latest

    def post_escalation_message(
        self,
        escalation: UUID,
        *,
        author_id: UUID,
        role: str,
        message: str,
        context: CommandContext,
    ) -> Saved:
        return self._update(
            self.get_escalation,
            escalation,
            lambda e: e.post_message(
                author_id=author_id, role=role, message=message, context=context
            ),
        )

    def reject_escalation(
        self, escalation: UUID, *, message: str, context: CommandContext
    ) -> Saved:
        return self._update(
            self.get_escalation, escalation, lambda e: e.reject(message=message, context=context)
        )

    def begin_escalation_refund(
        self,
        escalation: UUID,
        *,
        amount: Decimal,
        restock: bool | None,
        context: CommandContext,
    ) -> RefundClaim:
        """Claim the escalation for a refund resolution (or resume the claim) before any money
        moves: what to refund, of which order, under which refund id."""

        def begin(found: Escalation) -> Decision[RefundClaim]:
            refund_id = found.begin_refund(amount=amount, restock=restock, context=context)
            claim = found.refunding or {}
            return Decision(
                RefundClaim(
                    found.id, found.order_id, found.reason, refund_id, bool(claim.get("restock"))
                )
            )

        _, claim = self._decide(self.get_escalation, escalation, begin)
        return claim

    def abandon_escalation_refund(
        self, escalation: UUID, *, refund_id: UUID, reason: str, context: CommandContext
    ) -> Saved:
        return self._update(
            self.get_escalation,
            escalation,
            lambda e: e.abandon_refund(refund_id=refund_id, reason=reason, context=context),
        )

    def resolve_escalation_with_refund(
        self,
        escalation: UUID,
        *,
        refund: dict[str, Any],
        message: str,
        context: CommandContext,
    ) -> Saved:
        return self._update(
            self.get_escalation,
            escalation,
            lambda e: e.resolve_with_refund(refund=refund, message=message, context=context),
        )
