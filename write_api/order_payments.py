"""Payment commands: attempts and their outcomes on orders."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.payments.notices import ChargeNotice
from write_api.results import Saved, StartedPayment
from write_api.store import Decision, ShopStore


class OrderPaymentCommands(ShopStore):
    """Each payment step is saved with optimistic concurrency on the order it pays."""

    def begin_payment(
        self,
        order_id: UUID,
        *,
        now: datetime,
        resume_after: timedelta,
        context: CommandContext,
    ) -> StartedPayment:
        """Record a new payment attempt (or resume a stalled one) before the gateway is called."""
        new_attempt = uuid.uuid4()

        def begin(order: Order) -> Decision[StartedPayment]:
            attempt = order.begin_payment(
                attempt_id=new_attempt,
                now=now,
                resume_after=resume_after,
                context=context,
            )
            return Decision(
                StartedPayment(
                    order.id,
                    order.version,
                    attempt["attempt_id"],
                    attempt["amount"],
                    attempt["currency"],
                )
            )

        _, started = self._decide(self.get_order, order_id, begin)
        return started

    def pay_order(
        self,
        order_id: UUID,
        *,
        charge_id: str,
        context: CommandContext,
        attempt_id: UUID | None = None,
    ) -> Saved:
        """The captured payment turns each reservation into a sale, in one transaction."""
        saved, _ = self._decide(
            self.get_order, order_id, lambda o: self._pay(o, charge_id, attempt_id, context)
        )
        return saved

    def _pay(
        self, order: Order, charge_id: str, attempt_id: UUID | None, context: CommandContext
    ) -> Decision[bool]:
        """Mark the order paid and sell its reserved units; False if this charge paid it already."""
        if not order.mark_paid(charge_id=charge_id, attempt_id=attempt_id, context=context):
            return Decision(False)  # already paid by this very charge: nothing more to sell
        products = [self.get_product(pid) for pid in order.quantities]
        for product in products:
            product.sell(order_id=order.id, context=context)
        purchases = self.purchases_of(order.customer_id)
        purchases.record(order_id=order.id, product_ids=list(order.quantities), context=context)
        return Decision(True, also_changed=[*products, purchases])

    def settle_gateway_charge(
        self,
        order_id: UUID,
        *,
        notice: ChargeNotice,
        context: CommandContext,
    ) -> bool:
        """Apply a gateway's verdict on a charge once it matches what the order started.

        Returns False when the order already records this charge as paid (nothing changed).
        """

        def settle(order: Order) -> Decision[bool]:
            order.check_gateway_charge(
                charge_id=notice.charge_id,
                attempt_id=notice.attempt_id,
                amount=notice.amount,
                currency=notice.currency,
            )
            if order.paid_by(notice.charge_id):
                return Decision(False)
            if notice.succeeded:
                paid = self._pay(order, notice.charge_id, order_attempt_id(order), context)
                return Decision(True, also_changed=paid.also_changed)
            order.record_payment_declined(
                charge_id=notice.charge_id,
                reason=notice.reason,
                attempt_id=order_attempt_id(order),
                context=context,
            )
            return Decision(True)

        _, changed = self._decide(self.get_order, order_id, settle)
        return changed

    def record_payment_declined(
        self,
        order_id: UUID,
        *,
        charge_id: str,
        reason: str,
        context: CommandContext,
        attempt_id: UUID | None = None,
    ) -> Saved:
        return self._update(
            self.get_order,
            order_id,
            lambda o: o.record_payment_declined(
                charge_id=charge_id, reason=reason, attempt_id=attempt_id, context=context
            ),
        )

    def record_payment_pending(
        self,
        order_id: UUID,
        *,
        charge_id: str,
        context: CommandContext,
        attempt_id: UUID | None = None,
    ) -> Saved:
        return self._update(
            self.get_order,
            order_id,
            lambda o: o.record_payment_pending(
                charge_id=charge_id, attempt_id=attempt_id, context=context
            ),
        )

    def record_payment_authorised(
        self, order_id: UUID, *, attempt_id: UUID, charge_id: str, context: CommandContext
    ) -> Saved:
        """The gateway holds the attempt's amount; saved before it is captured."""
        return self._update(
            self.get_order,
            order_id,
            lambda o: o.record_payment_authorised(
                attempt_id=attempt_id, charge_id=charge_id, context=context
            ),
        )

    def record_payment_voided(
        self,
        order_id: UUID,
        *,
        attempt_id: UUID,
        charge_id: str,
        reason: str,
        context: CommandContext,
    ) -> Saved:
        """The attempt ended with nothing taken (hold released, or never at the gateway)."""
        return self._update(
            self.get_order,
            order_id,
            lambda o: o.record_payment_voided(
                attempt_id=attempt_id, charge_id=charge_id, reason=reason, context=context
            ),
        )


def order_attempt_id(order: Order) -> UUID | None:
    return order.payment_attempt["attempt_id"] if order.payment_attempt else None
