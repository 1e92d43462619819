"""Refund use cases: give money back on a paid order; apply the gateway's verdict on a refund.

The order holds each refund (an event) before the gateway is called, so concurrent refunds
conflict on the order's version and together never exceed what was captured; the gateway's
idempotency key derives from the refund id, so resuming a refund never pays out twice.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4, uuid5

import structlog
from django.conf import settings
from django.utils.module_loading import import_string

from write_api.application import Shop, shop
from write_api.domain.errors import Conflict
from write_api.domain.metadata import CommandContext
from write_api.domain.refunds import FAILED, PENDING, REQUESTED
from write_api.order_refunds import Verdict, requested
from write_api.payments.gateway import RefundingGateway, RefundStatus
from write_api.payments.notices import GatewayNotice, RefundNotice, answer_notice
from write_api.results import RefundResult, RequestedRefund, Saved

log = structlog.get_logger("shopstream.refunds")


class RefundDeclined(Conflict):
    """The gateway refused the refund; the held amount is refundable again."""

    code = "refund_declined"


def cancellation_refund_id(order_id: UUID) -> UUID:
    """The refund a cancellation holds: one per order, so a resumed one is the same refund."""
    return uuid5(order_id, "cancellation-refund")


def refund_key(refund_id: UUID) -> str:
    """The gateway idempotency key of one refund: a retry or a resume never refunds twice."""
    return f"order-refund-{refund_id}"


class Refunds:
    """Refund use cases of the shop, with the gateway port injected."""

    def __init__(self, shop: Shop, gateway: RefundingGateway) -> None:
        self.shop = shop
        self.gateway = gateway

    def refund_order(
        self,
        order_id: UUID,
        *,
        amount: Decimal,
        reason: str,
        restock: bool,
        product_ids: list[UUID] | None,
        refund_id: UUID | None = None,
        context: CommandContext,
        seller_id: UUID | None = None,
    ) -> RefundResult:
        """Hold the refund on the order, ask the gateway, record its answer.

        An existing `refund_id` returns that refund as it stands (one the gateway never
        answered is asked again, under the same key). `seller_id` limits it to that
        seller's lines.
        """
        held = self.shop.request_refund(
            order_id,
            refund_id=refund_id or uuid4(),
            amount=amount,
            reason=reason,
            restock=restock,
            product_ids=product_ids,
            seller_id=seller_id,
            context=context,
        )
        if held.status == REQUESTED:
            return self._ask_gateway(held, context)
        if held.status == FAILED:
            raise RefundDeclined(
                "The gateway declined this refund.", {"refund_id": str(held.refund_id)}
            )
        return _result(held, held.status, held.version)

    def cancel_order(self, order_id: UUID, *, reason: str, context: CommandContext) -> Saved:
        """Cancel the order and give back whatever was captured and not yet refunded."""
        saved, held = self.shop.cancel_refunding(
            order_id, reason=reason, refund_id=cancellation_refund_id(order_id), context=context
        )
        if held is None:
            return saved
        try:
            result = self._ask_gateway(held, context)
        except RefundDeclined as declined:
            # The order is cancelled either way; the failed refund is on it for a person to see.
            log.warning("cancellation_refund_declined", order_id=str(order_id), **declined.details)
            return Saved(order_id, self.shop.get_order(order_id).version)
        return Saved(order_id, result.version)

    def resume_refund(self, order_id: UUID, refund_id: UUID, *, context: CommandContext) -> bool:
        """Ask the gateway again about a refund it never answered; False if it did."""
        order = self.shop.get_order(order_id)
        refund = order.refund(refund_id)
        if refund is None or refund["status"] != REQUESTED:
            return False
        self._ask_gateway(requested(order, refund_id, refund, created=False), context)
        return True

    def reconcile_refund(self, order_id: UUID, refund_id: UUID, *, context: CommandContext) -> str:
        """Ask the gateway about a refund still pending (its webhook may be lost) and record
        its verdict as the webhook would: "refund_succeeded", "refund_declined",
        "refund_pending" (asked again next round) or "refund_settled" (nothing left to do)."""
        refund = self.shop.get_order(order_id).refund(refund_id)
        if refund is None or refund["status"] != PENDING or not refund["gateway_refund_id"]:
            return "refund_settled"
        outcome = self.gateway.retrieve_refund(refund["gateway_refund_id"])
        if outcome.status is RefundStatus.PENDING:
            return "refund_pending"
        succeeded = outcome.status is RefundStatus.SUCCEEDED
        verdict = Verdict(succeeded, outcome.id, outcome.failure_reason or "refund_failed")
        changed = self.shop.settle_reconciled_refund(
            order_id, refund_id=refund_id, verdict=verdict, context=context
        )
        if not changed:  # the webhook came first
            return "refund_settled"
        return "refund_succeeded" if succeeded else "refund_declined"

    def _ask_gateway(self, held: RequestedRefund, context: CommandContext) -> RefundResult:
        outcome = self.gateway.refund(
            charge_id=held.charge_id or "",
            amount=held.amount,
            currency=held.currency,
            idempotency_key=refund_key(held.refund_id),
            metadata={"refund_id": str(held.refund_id), "order_id": str(held.id)},
        )
        saved = self.shop.record_refund_outcome(
            held.id,
            refund_id=held.refund_id,
            status=outcome.status.value,
            gateway_refund_id=outcome.id,
            reason=outcome.failure_reason,
            context=context,
        )
        if outcome.status is RefundStatus.FAILED:
            raise RefundDeclined(
                "The gateway declined the refund.", {"reason": outcome.failure_reason}
            )
        status = self.shop.get_order(held.id).refunds[held.refund_id]["status"]
        return _result(held, status, saved.version)

    def apply_gateway_event(self, notice: GatewayNotice, context: CommandContext) -> str:
        """The outcome to record for one verified refund event, as for payments:
        "applied", "already_recorded", "ignored" or "refused: <code>"."""
        if not isinstance(notice, RefundNotice):
            return "ignored"
        return answer_notice(
            lambda: self.shop.settle_gateway_refund(
                notice.order_id, notice=notice, context=context
            ),
            lambda code: self._refused(notice, code),
        )

    @staticmethod
    def _refused(notice: RefundNotice, code: str) -> str:
        log.warning(
            "gateway_refund_event_refused",
            event_id=notice.event_id,
            order_id=str(notice.order_id),
            refund_id=str(notice.refund_id),
            amount=str(notice.amount),
            reason=code,
        )
        return f"refused: {code}"


def _result(held: RequestedRefund, status: str, version: int) -> RefundResult:
    shown = PENDING if status in (REQUESTED, PENDING) else status
    return RefundResult(held.refund_id, held.id, held.amount, shown, version)


def refunds() -> Refunds:
    """The refund use cases wired to the shop and the configured gateway."""
    return Refunds(shop(), import_string(settings.PAYMENT_GATEWAY)())
