"""Payment use cases: pay an order with a gateway token; apply the gateway's verdict on a charge.

The order records each attempt before the gateway is called (authorise-record-capture
starts here), so one order has at most one charge in flight whatever the concurrency,
and a retry or a resumed attempt reuses the attempt's gateway idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog

from write_api.application import Shop
from write_api.domain.errors import DomainError, NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.order import PAID
from write_api.payments.gateway import Charge, Outcome, PaymentGateway
from write_api.payments.notices import ChargeNotice, GatewayNotice
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
        currency: str,
        resume_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.shop = shop
        self.gateway = gateway
        self.currency = currency
        self.resume_after = resume_after
        self.clock = clock

    def pay_order_with_token(
        self, order_id: UUID, *, customer_id: UUID, token: str, context: CommandContext
    ) -> PaymentResult:
        """Record the attempt, charge its amount, record the outcome against the attempt."""
        if self.shop.get_order(order_id).customer_id != customer_id:
            raise NotFound(f"Order {order_id} does not exist.")
        attempt = self.shop.begin_payment(
            order_id,
            currency=self.currency,
            now=self.clock(),
            resume_after=self.resume_after,
            context=context,
        )
        charge = self.gateway.charge(
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
        saved = self.shop.pay_order(
            order_id, charge_id=charge.id, attempt_id=attempt_id, context=context
        )
        return PaymentResult(order_id, "paid", saved.version)

    def apply_gateway_event(self, notice: GatewayNotice, context: CommandContext) -> str:
        """The outcome to record for one verified, well-formed gateway event.

        "applied", "already_recorded", "ignored" (a type we do not act on) or
        "refused: <code>" when it does not match the order: nothing about the order changes.
        """
        if not isinstance(notice, ChargeNotice):
            return "ignored"
        try:
            changed = self.shop.settle_gateway_charge(
                notice.order_id, notice=notice, expected_currency=self.currency, context=context
            )
        except NotFound:
            return self._refused(notice, "unknown_order")
        except DomainError as refused:
            if refused.transient:
                raise  # not an answer: nothing is recorded, and the gateway delivers it again
            return self._refused(notice, refused.code)
        return "applied" if changed else "already_recorded"

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
