"""Resolving an escalation: a rejection, or a refund of the order and then the resolution.

A refund resolution claims the escalation first (an event), then refunds under the refund id
the claim names, then records the resolution with that refund. A concurrent rejection or
another amount is refused while the claim holds, so money and verdict always agree. A resolve
retried after a crash or a lost race resumes the claim, refunds under the same id, gets the
same refund back and records it: never a second refund. A refund the refunds use case refuses
(too much, declined) releases the claim, and the escalation stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from write_api.application import Shop
from write_api.domain.errors import DomainError
from write_api.domain.escalation_rules import REJECT, check_resolution
from write_api.domain.metadata import CommandContext
from write_api.escalation_commands import RefundClaim


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
        """Check everything, then reject, or refund and record (or refuse, unchanged)."""
        check_resolution(resolution=resolution, amount=amount, restock=restock, message=message)
        if resolution == REJECT:
            saved = self.shop.reject_escalation(escalation_id, message=message, context=context)
            return Resolution(saved.id, saved.version, REJECT, None)
        assert amount is not None  # check_resolution: a refund names its amount
        claim = self.shop.begin_escalation_refund(
            escalation_id, amount=amount, restock=restock, context=context
        )
        refund = self._refund(claim, amount, context)
        saved = self.shop.resolve_escalation_with_refund(
            escalation_id, refund=refund, message=message, context=context
        )
        return Resolution(saved.id, saved.version, resolution, refund)

    def _refund(
        self, claim: RefundClaim, amount: Decimal, context: CommandContext
    ) -> dict[str, Any]:
        try:
            made = self.refunds.refund_order(
                claim.order_id,
                amount=amount,
                reason=f"escalation {claim.escalation_id} ({claim.reason})",
                restock=claim.restock,
                product_ids=None,
                refund_id=claim.refund_id,
                context=context,
            )
        except DomainError as refused:
            if not refused.transient:  # a transient refusal keeps the claim: a retry resumes it
                self.shop.abandon_escalation_refund(
                    claim.escalation_id,
                    refund_id=claim.refund_id,
                    reason=refused.code,
                    context=context,
                )
            raise
        return {"id": made.id, "amount": made.amount, "status": made.status}
