"""Payment reconciliation: settle an attempt left without an outcome from what the gateway knows.

A crash, a timeout or a lost response can stop a pay call between any two steps. The
attempt stays on the order (so it neither expires nor can be cancelled), and once it has
made no progress for `stale_after`, this asks the gateway about it by its idempotency key:

| at the gateway | order still payable | order not payable |
| --- | --- | --- |
| nothing, declined | PaymentFailed: payable again | PaymentVoided |
| voided | PaymentVoided: payable again | PaymentVoided |
| authorised | record it, capture, Paid | void, PaymentVoided |
| captured | Paid | refunded at the gateway, PaymentVoided |
| pending | left to the gateway's webhook | left to the gateway's webhook |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol
from uuid import UUID

from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.domain.order_status import PENDING_PAYMENT
from write_api.paying import Payments, captured_without_order, gateway_key
from write_api.payments.gateway import (
    Charge,
    Outcome,
    PaymentGateway,
    RefundingGateway,
    RefundStatus,
)

ENDED = {None, Outcome.DECLINED, Outcome.VOIDED}


class ReconcilingGateway(PaymentGateway, RefundingGateway, Protocol):
    """Settling may capture, void or refund."""


def unrecorded_refund_key(attempt_id: UUID) -> str:
    """The refund of an attempt's charge that no order recorded: at most one per attempt."""
    return f"order-payment-refund-{attempt_id}"


class PaymentReconciliation:
    """Settles one order's stalled payment attempt; safe to run beside a live pay call."""

    def __init__(
        self, payments: Payments, gateway: ReconcilingGateway, *, stale_after: timedelta
    ) -> None:
        self.payments = payments
        self.shop = payments.shop
        self.gateway = gateway
        self.stale_after = stale_after

    def settle(self, order_id: UUID, *, context: CommandContext) -> str:
        """What was done: "no_attempt", "in_progress", "pending", "paid", "failed",
        "voided", "refunded" or "refund_failed"."""
        order = self.shop.get_order(order_id)
        attempt = order.payment_attempt
        if attempt is None:
            return "no_attempt"
        if self.payments.clock() - order.modified_on < self.stale_after:
            return "in_progress"
        attempt_id: UUID = attempt["attempt_id"]
        charge = self.gateway.retrieve(gateway_key(attempt_id))
        outcome = charge.outcome if charge else None
        if outcome is Outcome.PENDING:
            return "pending"
        if outcome in ENDED:
            return self._end(order, attempt_id, charge, context)
        assert charge is not None
        if order.status != PENDING_PAYMENT:
            return self._undo(order, attempt_id, charge, context)
        self.payments.complete(order.id, attempt_id, charge, context)
        return "paid"

    def _end(
        self, order: Order, attempt_id: UUID, charge: Charge | None, context: CommandContext
    ) -> str:
        """Nothing was taken: the attempt ends, and a payable order may be paid again."""
        outcome = charge.outcome if charge else None
        charge_id = charge.id if charge else ""
        reason = (charge.failure_reason or charge.outcome.value) if charge else "not_at_gateway"
        if order.status == PENDING_PAYMENT and outcome is not Outcome.VOIDED:
            # refused if the pay call recorded an authorisation since the gateway answered
            self.shop.record_payment_declined(
                order.id, charge_id=charge_id, reason=reason, attempt_id=attempt_id, context=context
            )
            return "failed"
        self.shop.record_payment_voided(
            order.id, attempt_id=attempt_id, charge_id=charge_id, reason=reason, context=context
        )
        return "voided"

    def _undo(self, order: Order, attempt_id: UUID, charge: Charge, context: CommandContext) -> str:
        """An order that can no longer be paid gives back what its attempt holds or took."""
        if charge.outcome is Outcome.AUTHORISED:
            charge = self.payments.void_authorisation(order.id, attempt_id, charge, context)
        if charge.outcome is Outcome.CAPTURED:
            return self._refund(order, attempt_id, charge, context)
        return "voided"

    def _refund(
        self, order: Order, attempt_id: UUID, charge: Charge, context: CommandContext
    ) -> str:
        """Money taken for an order that never recorded it: all of it goes back, then the
        attempt ends. The order has no Paid, so it has no refund of its own to hold this."""
        # What the attempt charged in: the order's currency (an attempt started before
        # payments took it from the order holds the settings' CURRENCY of its day).
        attempt = order.payment_attempt
        refund = self.gateway.refund(
            charge_id=charge.id,
            amount=charge.amount if charge.amount is not None else order.total,
            currency=attempt["currency"] if attempt else order.currency,
            idempotency_key=unrecorded_refund_key(attempt_id),
            metadata={"order_id": str(order.id), "attempt_id": str(attempt_id)},
        )
        if refund.status is RefundStatus.FAILED:
            captured_without_order(order.id, charge, f"refund_failed: {refund.failure_reason}")
            return "refund_failed"  # the attempt stays in flight: the next round asks again
        self.shop.record_payment_voided(
            order.id,
            attempt_id=attempt_id,
            charge_id=charge.id,
            reason=f"refunded {refund.id}",
            context=context,
        )
        return "refunded"
