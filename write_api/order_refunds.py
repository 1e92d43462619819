"""Refund commands: hold a refund on the order (restocking in the same transaction), then
record what the gateway answered."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from write_api.domain.errors import Conflict
from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.domain.refunds import Refund
from write_api.payments.notices import RefundNotice
from write_api.results import RequestedRefund, Saved
from write_api.store import Decision, ShopStore


class RefundRefused(Conflict):
    """A gateway notice that does not match the refund this order holds."""


class OrderRefundCommands(ShopStore):
    """Each refund step is saved with optimistic concurrency on the order it refunds."""

    def request_refund(
        self,
        order_id: UUID,
        *,
        refund_id: UUID,
        amount: Decimal,
        reason: str,
        restock: bool,
        product_ids: list[UUID] | None,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> RequestedRefund:
        """Hold the refund before the gateway is called; an existing `refund_id` changes nothing."""

        def request(order: Order) -> Decision[RequestedRefund]:
            earlier = order.refund(refund_id)
            if earlier is not None:
                return Decision(requested(order, refund_id, earlier, created=False))
            units = order.request_refund(
                refund_id=refund_id,
                amount=amount,
                reason=reason,
                restock=restock,
                product_ids=product_ids,
                seller_id=seller_id,
                context=context,
            )
            products = [self.get_product(pid) for pid in sorted(units, key=str)]
            for product in products:
                product.return_to_stock(
                    order_id=order.id, quantity=units[product.id], context=context
                )
            refund = order.refunds[refund_id]
            return Decision(requested(order, refund_id, refund, created=True), products)

        _, result = self._decide(self.get_order, order_id, request)
        return result

    def cancel_refunding(
        self, order_id: UUID, *, reason: str, refund_id: UUID, context: CommandContext
    ) -> tuple[Saved, RequestedRefund | None]:
        """Cancel, release the reserved units and, when money was captured, hold a refund of
        all that is left with its units back on sale: one transaction, so a cancelled order
        never keeps money the shop did not start giving back."""

        def cancel(order: Order) -> Decision[RequestedRefund | None]:
            order.cancel(reason=reason, context=context)
            products = {pid: self.get_product(pid) for pid in order.quantities}
            for product in products.values():
                product.release(order_id=order.id, context=context)
            left = order.refundable
            if not left:
                return Decision(None, list(products.values()))
            units = order.request_refund(
                refund_id=refund_id,
                amount=left,
                reason=f"Order cancelled ({reason}).",
                restock=True,  # cancellable orders have not shipped: the units are on hand
                product_ids=None,
                seller_id=None,
                context=context,
            )
            for pid, quantity in units.items():
                products[pid].return_to_stock(order_id=order.id, quantity=quantity, context=context)
            held = requested(order, refund_id, order.refunds[refund_id], created=True)
            return Decision(held, list(products.values()))

        return self._decide(self.get_order, order_id, cancel)

    def record_refund_outcome(
        self,
        order_id: UUID,
        *,
        refund_id: UUID,
        status: str,
        gateway_refund_id: str,
        reason: str,
        context: CommandContext,
    ) -> Saved:
        """Record "succeeded", "pending" or "failed"; a step already recorded changes nothing."""

        def record(order: Order) -> None:
            if status == "succeeded":
                order.record_refund_succeeded(
                    refund_id=refund_id, gateway_refund_id=gateway_refund_id, context=context
                )
            elif status == "pending":
                order.record_refund_pending(
                    refund_id=refund_id, gateway_refund_id=gateway_refund_id, context=context
                )
            else:
                order.record_refund_failed(refund_id=refund_id, reason=reason, context=context)

        return self._update(self.get_order, order_id, record)

    def settle_gateway_refund(
        self,
        order_id: UUID,
        *,
        notice: RefundNotice,
        context: CommandContext,
    ) -> bool:
        """Apply the gateway's verdict on a refund it matches; False if recorded already."""

        def settle(order: Order) -> Decision[bool]:
            check_refund_notice(order, notice)
            verdict = Verdict(notice.succeeded, notice.gateway_refund_id, notice.reason)
            return Decision(record_verdict(order, notice.refund_id, verdict, context))

        _, changed = self._decide(self.get_order, order_id, settle)
        return changed

    def settle_reconciled_refund(
        self, order_id: UUID, *, refund_id: UUID, verdict: Verdict, context: CommandContext
    ) -> bool:
        """Apply the verdict the gateway gave when asked about a refund (its webhook lost),
        as its webhook would; False if recorded already (by the webhook, or a reconciliation)."""

        def settle(order: Order) -> Decision[bool]:
            return Decision(record_verdict(order, refund_id, verdict, context))

        _, changed = self._decide(self.get_order, order_id, settle)
        return changed


@dataclass(frozen=True)
class Verdict:
    """The gateway's final word on a refund, from its webhook or from asking it."""

    succeeded: bool
    gateway_refund_id: str
    reason: str


def record_verdict(
    order: Order, refund_id: UUID, verdict: Verdict, context: CommandContext
) -> bool:
    """Record the refund's end on the order; False (no event) if it has ended already."""
    if verdict.succeeded:
        return order.record_refund_succeeded(
            refund_id=refund_id, gateway_refund_id=verdict.gateway_refund_id, context=context
        )
    return order.record_refund_failed(refund_id=refund_id, reason=verdict.reason, context=context)


def requested(order: Order, refund_id: UUID, refund: Refund, *, created: bool) -> RequestedRefund:
    return RequestedRefund(
        order.id,
        order.version,
        refund_id,
        refund["amount"],
        refund["status"],
        order.charge_id,
        order.currency,
        created,
    )


def check_refund_notice(order: Order, notice: RefundNotice) -> None:
    """A refund notice must be about a refund this order holds, of its charge, for its amount
    in the order's currency."""
    refund = order.refund(notice.refund_id)
    if refund is None or order.charge_id != notice.charge_id:
        raise RefundRefused("The refund is not one this order holds.", code="unknown_refund")
    if notice.amount != refund["amount"]:
        raise RefundRefused(
            f"The refund is for {notice.amount}, the order's for {refund['amount']}.",
            code="amount_mismatch",
        )
    if notice.currency != order.currency:
        raise RefundRefused(
            f"The refund is in {notice.currency}, the order in {order.currency}.",
            code="currency_mismatch",
        )
    known = refund["gateway_refund_id"]
    if known is not None and known != notice.gateway_refund_id:
        raise RefundRefused("The gateway refund id does not match.", code="unknown_refund")
