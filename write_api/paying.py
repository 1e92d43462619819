"""Payment use cases: pay an order with a gateway token; apply the gateway's verdict on a charge.

Every step is recorded before the next one moves money: the attempt (PaymentStarted) before
the gateway authorises, the authorisation (PaymentAuthorised) before it captures, then Paid.
One order has at most one charge in flight whatever the concurrency, a retry or a resumed
attempt reuses the attempt's gateway idempotency key, and whatever a crash leaves between
two steps the reconciliation (write_api/reconciling.py) finds at the gateway and settles.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog

from write_api.application import Shop
from write_api.domain.errors import DomainError, NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.order_status import PAID
from write_api.domain.payment_attempts import ChargeRefused
from write_api.metrics import PAYMENT_NOTICES, PAYMENTS, counted
from write_api.payments.gateway import Charge, Outcome, PaymentGateway
from write_api.payments.notices import ChargeNotice, GatewayNotice, answer_notice
from write_api.results import StartedPayment

log = structlog.get_logger("shopstream.payments")


class PaymentDeclined(DomainError):
    """The gateway declined the charge; the order stays payable."""

    code = "payment_declined"


@dataclass(frozen=True)
class PaymentResult:
    """Where the order's payment stands after a pay call."""

    order_id: UUID
    status: str  # "paid" or "payment_pending"
    version: int


def captured_without_order(order_id: UUID, charge: Charge, reason: str) -> None:
    """Money taken for an order that cannot record it: only a refund gives it back, and the
    reconciliation makes it (the attempt stays in flight until then; see reconciling.py).

    Cancellation and expiry wait for an attempt in flight (see Order.cancel), so this is
    reached only by histories recorded before they did.
    """
    log.error(
        "captured_charge_without_paid_order",
        order_id=str(order_id),
        charge_id=charge.id,
        amount=str(charge.amount),
        reason=reason,
    )


def gateway_key(attempt_id: UUID) -> str:
    """The gateway idempotency key of one attempt: a retry or a resume never charges twice."""
    return f"order-payment-{attempt_id}"


class Payments:
    """Money-moving use cases of the shop, with the gateway port injected."""

    def __init__(
        self,
        shop: Shop,
        gateway: PaymentGateway,
        *,
        resume_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.shop = shop
        self.gateway = gateway
        self.resume_after = resume_after
        self.clock = clock

    def pay_order_with_token(
        self, order_id: UUID, *, customer_id: UUID, token: str, context: CommandContext
    ) -> PaymentResult:
        """Record the attempt, charge its amount in the order's currency, record the outcome
        against the attempt."""
        with counted(PAYMENTS, success="paid") as outcome:
            result = self._pay_with_token(order_id, customer_id, token, context)
            outcome.value = result.status
        return result

    def _pay_with_token(
        self, order_id: UUID, customer_id: UUID, token: str, context: CommandContext
    ) -> PaymentResult:
        if self.shop.get_order(order_id).customer_id != customer_id:
            raise NotFound(f"Order {order_id} does not exist.")
        attempt = self.shop.begin_payment(
            order_id,
            now=self.clock(),
            resume_after=self.resume_after,
            context=context,
        )
        charge = self.gateway.authorise(
            amount=attempt.amount,
            currency=attempt.currency,
            token=token,
            reference=str(order_id),
            idempotency_key=gateway_key(attempt.attempt_id),
            metadata={"attempt_id": str(attempt.attempt_id)},
        )
        return self._record(attempt, charge, context)

    def _record(
        self, attempt: StartedPayment, charge: Charge, context: CommandContext
    ) -> PaymentResult:
        order_id, attempt_id = attempt.id, attempt.attempt_id
        if charge.outcome is Outcome.DECLINED:
            self.shop.record_payment_declined(
                order_id,
                charge_id=charge.id,
                reason=charge.failure_reason,
                attempt_id=attempt_id,
                context=context,
            )
            raise PaymentDeclined("The payment was declined.", {"reason": charge.failure_reason})
        if charge.outcome is Outcome.PENDING:
            saved = self.shop.record_payment_pending(
                order_id, charge_id=charge.id, attempt_id=attempt_id, context=context
            )
            if self.shop.get_order(order_id).status != PAID:
                return PaymentResult(order_id, "payment_pending", saved.version)
            return PaymentResult(order_id, "paid", saved.version)
        return self.complete(order_id, attempt_id, charge, context)

    def complete(
        self, order_id: UUID, attempt_id: UUID, charge: Charge, context: CommandContext
    ) -> PaymentResult:
        """Take an authorised charge: record the authorisation, capture, record Paid.

        Each step is safe to repeat (the order ignores a step it has recorded, the gateway a
        capture it has made), so the pay call and the reconciliation may both run it.
        """
        if charge.outcome is Outcome.AUTHORISED:
            self._record_authorisation(order_id, attempt_id, charge, context)
            charge = self.gateway.capture(charge.id)
        if charge.outcome is not Outcome.CAPTURED:  # voided meanwhile: nothing was taken
            raise PaymentDeclined("The payment was not completed.", {"reason": "voided"})
        try:
            saved = self.shop.pay_order(
                order_id, charge_id=charge.id, attempt_id=attempt_id, context=context
            )
        except DomainError as refused:
            if not refused.transient:
                captured_without_order(order_id, charge, refused.code)
            raise
        return PaymentResult(order_id, "paid", saved.version)

    def _record_authorisation(
        self, order_id: UUID, attempt_id: UUID, charge: Charge, context: CommandContext
    ) -> None:
        """Saved before the capture; an order that can no longer take it gets it voided."""
        try:
            self.shop.record_payment_authorised(
                order_id, attempt_id=attempt_id, charge_id=charge.id, context=context
            )
        except DomainError as refused:
            if not refused.transient:  # not payable any more, or the attempt was ended
                self.void_authorisation(order_id, attempt_id, charge, context)
            raise

    def void_authorisation(
        self, order_id: UUID, attempt_id: UUID, charge: Charge, context: CommandContext
    ) -> Charge:
        """Release the hold, then end the attempt if the order still has it in flight."""
        voided = self.gateway.void(charge.id)
        if voided.outcome is Outcome.CAPTURED:
            captured_without_order(order_id, voided, "captured_before_void")
            return voided
        # the attempt may have ended already (failed or voided by the reconciliation)
        with contextlib.suppress(ChargeRefused):
            self.shop.record_payment_voided(
                order_id,
                attempt_id=attempt_id,
                charge_id=charge.id,
                reason="order_not_payable",
                context=context,
            )
        return voided

    def apply_gateway_event(self, notice: GatewayNotice, context: CommandContext) -> str:
        """The outcome to record for one verified, well-formed gateway event.

        "applied", "already_recorded", "ignored" (a type we do not act on) or
        "refused: <code>" when it does not match the order: nothing about the order changes.
        """
        with counted(PAYMENT_NOTICES, success="ignored") as counted_as:
            if not isinstance(notice, ChargeNotice):
                return "ignored"
            outcome = answer_notice(
                lambda: self.shop.settle_gateway_charge(
                    notice.order_id, notice=notice, context=context
                ),
                lambda code: self._refused(notice, code),
            )
            counted_as.value = outcome.partition(":")[0]  # "refused: <code>" counts as refused
        return outcome

    @staticmethod
    def _refused(notice: ChargeNotice, code: str) -> str:
        log.warning(
            "gateway_event_refused",
            event_id=notice.event_id,
            type=notice.type,
            order_id=str(notice.order_id),
            charge_id=notice.charge_id,
            amount=str(notice.amount),
            currency=notice.currency,
            reason=code,
        )
        return f"refused: {code}"
