"""Refunding an order: a refund is requested (holding part of what was captured), then the
gateway's outcome is recorded.

The commands and `@event` bodies are functions whose first parameter is the order (named
`self`, as the library expects of an event body); `Order` composes them as its methods. The
rules on amounts and lines are in write_api.domain.refunds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import event

from write_api.domain.errors import NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.refunds import (
    FAILED,
    PENDING,
    REQUESTED,
    SUCCEEDED,
    Refund,
    check_refund_request,
    check_refundable,
    check_seller_share,
    held,
    payment_status,
    refunded,
)

if TYPE_CHECKING:
    from write_api.domain.order import Order

Metadata = dict[str, str | None]


def captured(self: Order) -> Decimal:
    """What the gateway took for this order (nothing until it is paid)."""
    return self.total if self.charge_id is not None else Decimal("0.00")


def refundable(self: Order) -> Decimal:
    """What may still be refunded: captured minus every refund that has not failed."""
    return captured(self) - held(self.refunds.values())


def refunded_total(self: Order) -> Decimal:
    return refunded(self.refunds.values())


def order_payment_status(self: Order) -> str:
    return payment_status(captured(self), self.refunds.values())


def request_refund(
    self: Order,
    *,
    refund_id: UUID,
    amount: Decimal,
    reason: str,
    restock: bool,
    product_ids: list[UUID] | None,
    seller_id: UUID | None,
    context: CommandContext,
) -> dict[UUID, int]:
    """Hold `amount` of the captured money for a new refund; the units to put back on sale.

    Saved before the gateway is called, so concurrent refunds conflict on the order's
    version and together never exceed what was captured. `seller_id` limits the refund
    to that seller's lines.
    """
    check_refund_request(amount=amount, reason=reason, product_ids=product_ids, lines=self.lines)
    if seller_id is not None:
        check_seller_share(
            seller_id=seller_id,
            amount=amount,
            product_ids=product_ids,
            lines=self.lines,
            refunds=self.refunds.values(),
        )
    check_refundable(amount, captured(self), self.refunds.values())
    chosen = set(self.quantities) if product_ids is None else set(product_ids)
    units = {
        str(pid): qty
        for pid, qty in self.quantities.items()
        if restock and pid in chosen and pid not in self.restocked
    }
    self._refund_requested(
        refund_id=refund_id,
        amount=amount,
        reason=reason.strip(),
        product_ids=sorted(chosen, key=str),
        seller_id=seller_id,
        restocked=units,
        charge_id=self.charge_id,
        metadata=context.as_event_metadata(),
    )
    return {UUID(pid): qty for pid, qty in units.items()}


@event("RefundRequested", topic="shopstream.order.RefundRequested")
def refund_requested(
    self: Order,
    *,
    refund_id: UUID,
    amount: Decimal,
    reason: str,
    product_ids: list[UUID],
    seller_id: UUID | None,
    restocked: dict[str, int],
    charge_id: str | None,
    metadata: Metadata,
) -> None:
    self.refunds[refund_id] = {
        "amount": amount,
        "status": REQUESTED,
        "reason": reason,
        "product_ids": product_ids,
        "seller_id": seller_id,
        "gateway_refund_id": None,
    }
    self.restocked.extend(UUID(pid) for pid in restocked)


def refund(self: Order, refund_id: UUID) -> Refund | None:
    return self.refunds.get(refund_id)


def record_refund_pending(
    self: Order, *, refund_id: UUID, gateway_refund_id: str, context: CommandContext
) -> bool:
    """The gateway will settle this refund later; False (no event) if it is past that."""
    if refund_status(self, refund_id) != REQUESTED:
        return False
    self._refund_pending(
        refund_id=refund_id,
        gateway_refund_id=gateway_refund_id,
        metadata=context.as_event_metadata(),
    )
    return True


@event("RefundPending", topic="shopstream.order.RefundPending")
def refund_pending(
    self: Order, *, refund_id: UUID, gateway_refund_id: str, metadata: Metadata
) -> None:
    self.refunds[refund_id] = {
        **self.refunds[refund_id],
        "status": PENDING,
        "gateway_refund_id": gateway_refund_id,
    }


def record_refund_succeeded(
    self: Order, *, refund_id: UUID, gateway_refund_id: str, context: CommandContext
) -> bool:
    """The gateway gave the money back; False (no event) if this was recorded already."""
    if refund_status(self, refund_id) not in (REQUESTED, PENDING):
        return False
    self._refund_succeeded(
        refund_id=refund_id,
        gateway_refund_id=gateway_refund_id,
        metadata=context.as_event_metadata(),
    )
    return True


@event("RefundSucceeded", topic="shopstream.order.RefundSucceeded")
def refund_succeeded(
    self: Order, *, refund_id: UUID, gateway_refund_id: str, metadata: Metadata
) -> None:
    self.refunds[refund_id] = {
        **self.refunds[refund_id],
        "status": SUCCEEDED,
        "gateway_refund_id": gateway_refund_id,
    }


def record_refund_failed(
    self: Order, *, refund_id: UUID, reason: str, context: CommandContext
) -> bool:
    """The gateway refused: the held amount is refundable again; False if already ended."""
    if refund_status(self, refund_id) not in (REQUESTED, PENDING):
        return False
    self._refund_failed(refund_id=refund_id, reason=reason, metadata=context.as_event_metadata())
    return True


@event("RefundFailed", topic="shopstream.order.RefundFailed")
def refund_failed(self: Order, *, refund_id: UUID, reason: str, metadata: Metadata) -> None:
    self.refunds[refund_id] = {**self.refunds[refund_id], "status": FAILED}


def refund_status(self: Order, refund_id: UUID) -> str:
    found = self.refunds.get(refund_id)
    if found is None:
        raise NotFound(f"Refund {refund_id} of order {self.id} does not exist.")
    return found["status"]
