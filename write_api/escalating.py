"""Resolving an escalation: a rejection, or a refund of the order and then the resolution.

Money moves first, under a refund id derived from the escalation's id, and the resolution
records that refund. A resolve retried after a crash or a lost race between the two steps
refunds under the same id, gets the same refund back, and records it: never a second refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from write_api.application import Shop
from write_api.domain.escalation import REFUND, refund_id_for
from write_api.domain.metadata import CommandContext


class RefundOutcome(Protocol):
    """What a refund use case answers (write_api.refunding.RefundResult)."""

    @property
    def id(self) -> UUID: ...

    @property
    def amount(self) -> Decimal: ...

    @property
    def status(self) -> str: ...


class RefundsPort(Protocol):
    """The refund use case an escalation's refund goes through (write_api.refunding)."""

    def refund_order(
        self,
        order_id: UUID,
        *,
        amount: Decimal,
        reason: str,
        restock: bool,
        product_ids: list[UUID] | None,
        refund_id: UUID | None,
        context: CommandContext,
    ) -> RefundOutcome: ...


@dataclass(frozen=True)
class Resolution:
    """A resolved escalation: its new version, how it ended, and the refund it made."""

    id: UUID
    version: int
    resolution: str
    refund: dict[str, Any] | None


class Escalations:
    """The escalation use case that may move money, with the refunds use case injected."""

    def __init__(self, shop: Shop, refunds: RefundsPort) -> None:
        self.shop = shop
        self.refunds = refunds

    def resolve(
        self,
        escalation_id: UUID,
        *,
        resolution: str,
        amount: Decimal | None,
        restock: bool | None,
        message: str,
        context: CommandContext,
    ) -> Resolution:
        """Check everything, refund if asked, then record the resolution (or refuse, unchanged)."""
        escalation = self.shop.check_escalation_resolvable(
            escalation_id, resolution=resolution, amount=amount, restock=restock, message=message
        )
        refund = None
        if resolution == REFUND:
            assert amount is not None  # checked above
            made = self.refunds.refund_order(
                escalation.order_id,
                amount=amount,
                reason=f"escalation {escalation.id} ({escalation.reason})",
                restock=bool(restock),
                product_ids=None,
                refund_id=refund_id_for(escalation.id),
                context=context,
            )
            refund = {"id": made.id, "amount": made.amount, "status": made.status}
        saved = self.shop.resolve_escalation(
            escalation.id,
            resolution=resolution,
            message=message,
            restock=restock,
            refund=refund,
            context=context,
        )
        return Resolution(saved.id, saved.version, resolution, refund)
