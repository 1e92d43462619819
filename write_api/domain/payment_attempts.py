"""Paying an order: a payment attempt is started (or resumed), then its gateway outcome recorded.

The commands and `@event` bodies are functions whose first parameter is the order (named
`self`, as the library expects of an event body); `Order` composes them as its methods.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from write_api.domain.errors import Conflict
from write_api.domain.metadata import CommandContext
from write_api.domain.order_status import PAID, PENDING_PAYMENT, require

if TYPE_CHECKING:
    from write_api.domain.order import Order

Metadata = dict[str, str | None]
# The payment attempt in flight: attempt_id, amount, currency, charge_id (None until known),
# and `authorised` once the gateway's authorisation of that charge is recorded.
Attempt = dict[str, Any]


class PaymentInProgress(Conflict):
    """Another payment attempt of this order is in flight; it may be retried once it ends."""

    code = "payment_in_progress"
    transient = True


class ChargeRefused(Conflict):
    """A gateway notice that does not match the payment this order started."""


def begin_payment(
    self: Order,
    *,
    attempt_id: UUID,
    now: datetime,
    resume_after: timedelta,
    context: CommandContext,
) -> Attempt:
    """Start an attempt for the whole total in the order's currency, or resume one left
    without progress.

    Saved before the gateway is called, so concurrent payers conflict on the order's
    version and only one charges; a resumed attempt reuses its gateway idempotency key.
    """
    require(self.status, PENDING_PAYMENT, PAID)
    attempt = self.payment_attempt
    if attempt is None:
        self._payment_started(
            attempt_id=attempt_id,
            amount=self.total,
            currency=self.currency,
            metadata=context.as_event_metadata(),
        )
    elif now - self.modified_on >= resume_after:
        self._payment_resumed(
            attempt_id=attempt["attempt_id"], metadata=context.as_event_metadata()
        )
    else:
        raise PaymentInProgress(
            "A payment of this order is already in progress.",
            {"attempt_id": str(attempt["attempt_id"])},
        )
    assert self.payment_attempt is not None
    return self.payment_attempt


@event("PaymentStarted", topic="shopstream.order.PaymentStarted")
def payment_started(
    self: Order, *, attempt_id: UUID, amount: Decimal, currency: str, metadata: Metadata
) -> None:
    self.payment_attempt = {
        "attempt_id": attempt_id,
        "amount": amount,
        "currency": currency,
        "charge_id": None,
    }


@event("PaymentResumed", topic="shopstream.order.PaymentResumed")
def payment_resumed(self: Order, *, attempt_id: UUID, metadata: Metadata) -> None:
    """Only marks progress: the attempt is the same, and so is its gateway key."""


def check_gateway_charge(
    self: Order,
    *,
    charge_id: str,
    attempt_id: UUID | None,
    amount: Decimal,
    currency: str,
) -> None:
    """A gateway notice must be about the charge this order started, for its total in
    its currency."""
    if amount != self.total:
        raise ChargeRefused(
            f"The charge is for {amount}, the order for {self.total}.", code="amount_mismatch"
        )
    if currency != self.currency:
        raise ChargeRefused(
            f"The charge is in {currency}, the order in {self.currency}.",
            code="currency_mismatch",
        )
    if paid_by(self, charge_id):
        return
    if not attempt_owns(self, charge_id, attempt_id):
        raise ChargeRefused("The charge is not the one this order started.", code="unknown_charge")


def paid_by(self: Order, charge_id: str) -> bool:
    return self.status != PENDING_PAYMENT and self.charge_id == charge_id


def attempt_owns(self: Order, charge_id: str, attempt_id: UUID | None) -> bool:
    attempt = self.payment_attempt
    if attempt is None:  # a charge left pending before attempts were recorded
        return attempt_id is None and self.payment_pending_charge == charge_id
    if attempt_id is not None and attempt_id != attempt["attempt_id"]:
        return False
    if attempt["charge_id"] is not None:
        return bool(attempt["charge_id"] == charge_id)
    return attempt_id is not None  # charge not recorded yet: only the echo links them


def require_attempt(self: Order, attempt_id: UUID | None) -> None:
    """Outcomes of a gateway attempt belong to the attempt in flight, not an ended one."""
    attempt = self.payment_attempt
    if attempt_id is not None and (attempt is None or attempt["attempt_id"] != attempt_id):
        raise ChargeRefused("That payment attempt is no longer in progress.", code="unknown_charge")


def record_payment_declined(
    self: Order,
    *,
    charge_id: str,
    reason: str,
    context: CommandContext,
    attempt_id: UUID | None = None,
) -> None:
    require(self.status, PENDING_PAYMENT, "paid")
    require_attempt(self, attempt_id)
    if self.payment_attempt and self.payment_attempt.get("authorised"):
        # Its charge may be captured any moment: it ends paid, or voided at the gateway.
        raise ChargeRefused(
            "The attempt is authorised: it is captured or voided, not failed.",
            code="payment_authorised",
        )
    self._payment_failed(
        charge_id=charge_id,
        reason=reason,
        attempt_id=attempt_id,
        metadata=context.as_event_metadata(),
    )


@event("PaymentFailed", topic="shopstream.order.PaymentFailed")
def payment_failed(
    self: Order, *, charge_id: str, reason: str, metadata: Metadata, attempt_id: UUID | None = None
) -> None:
    self.payment_pending_charge = None
    self.payment_attempt = None


def record_payment_pending(
    self: Order, *, charge_id: str, context: CommandContext, attempt_id: UUID | None = None
) -> None:
    if paid_by(self, charge_id):
        return  # the gateway's webhook settled it before the pay call recorded "pending"
    require(self.status, PENDING_PAYMENT, "paid")
    require_attempt(self, attempt_id)
    self._payment_pending(
        charge_id=charge_id, attempt_id=attempt_id, metadata=context.as_event_metadata()
    )


@event("PaymentPending", topic="shopstream.order.PaymentPending")
def payment_pending(
    self: Order, *, charge_id: str, metadata: Metadata, attempt_id: UUID | None = None
) -> None:
    self.payment_pending_charge = charge_id
    if self.payment_attempt is not None:
        self.payment_attempt = {**self.payment_attempt, "charge_id": charge_id}


def record_payment_authorised(
    self: Order, *, attempt_id: UUID, charge_id: str, context: CommandContext
) -> bool:
    """Record the gateway's authorisation of the attempt's charge, before it is captured;
    False (no event) if it is recorded already. Refused once the order is not payable or
    the attempt has ended: the caller then voids the authorisation."""
    attempt = self.payment_attempt
    if attempt and attempt.get("authorised") and attempt["charge_id"] == charge_id:
        return False
    require(self.status, PENDING_PAYMENT, PAID)
    if attempt is None or attempt["attempt_id"] != attempt_id:
        raise ChargeRefused("That payment attempt is no longer in progress.", code="unknown_charge")
    self._payment_authorised(
        attempt_id=attempt_id, charge_id=charge_id, metadata=context.as_event_metadata()
    )
    return True


@event("PaymentAuthorised", topic="shopstream.order.PaymentAuthorised")
def payment_authorised(
    self: Order, *, attempt_id: UUID, charge_id: str, metadata: Metadata
) -> None:
    assert self.payment_attempt is not None
    self.payment_attempt = {**self.payment_attempt, "charge_id": charge_id, "authorised": True}


def record_payment_voided(
    self: Order, *, attempt_id: UUID, charge_id: str, reason: str, context: CommandContext
) -> None:
    """End the attempt with nothing taken (its authorisation voided, or it never reached
    the gateway), whatever the order's status: an unpayable order's attempt ends this way."""
    attempt = self.payment_attempt
    if attempt is None or attempt["attempt_id"] != attempt_id:
        raise ChargeRefused("That payment attempt is no longer in progress.", code="unknown_charge")
    self._payment_voided(
        attempt_id=attempt_id,
        charge_id=charge_id,
        reason=reason,
        metadata=context.as_event_metadata(),
    )


@event("PaymentVoided", topic="shopstream.order.PaymentVoided")
def payment_voided(
    self: Order, *, attempt_id: UUID, charge_id: str, reason: str, metadata: Metadata
) -> None:
    self.payment_pending_charge = None
    self.payment_attempt = None


def mark_paid(
    self: Order, *, charge_id: str, context: CommandContext, attempt_id: UUID | None = None
) -> bool:
    """Record the captured charge; False (and no event) if this charge already paid it."""
    if paid_by(self, charge_id):
        return False
    require(self.status, PENDING_PAYMENT, PAID)
    require_attempt(self, attempt_id)
    self._paid(charge_id=charge_id, attempt_id=attempt_id, metadata=context.as_event_metadata())
    return True


@event("Paid", topic="shopstream.order.Paid")
def paid(
    self: Order, *, charge_id: str, metadata: Metadata, attempt_id: UUID | None = None
) -> None:
    self.status = PAID
    self.charge_id = charge_id
    self.payment_pending_charge = None
    self.payment_attempt = None
