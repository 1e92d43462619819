"""The payment-gateway port: what a real provider (Stripe, Adyen, ...) implements for us.

Money moves in two steps, as with a provider's manual capture: `authorise` holds the amount
on the card, `capture` takes it, `void` releases a hold that was not captured. `retrieve`
looks a charge up by the idempotency key it was authorised with, so an attempt whose answer
was lost (a crash, a timeout) can be settled later. `retrieve_refund` does the same for a
refund the gateway settles later, whose webhook may never arrive.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class Outcome(enum.Enum):
    AUTHORISED = "authorised"  # held on the card, not taken yet
    CAPTURED = "captured"
    DECLINED = "declined"
    PENDING = "pending"  # the gateway decides later and captures itself; a signed webhook tells
    VOIDED = "voided"  # the hold was released: nothing taken


@dataclass(frozen=True)
class Charge:
    id: str
    outcome: Outcome
    failure_reason: str = ""
    amount: Decimal | None = None
    currency: str | None = None  # ISO 4217, the one it was authorised in


class UnknownCharge(Exception):
    """The gateway has no charge with that id."""


class UnknownRefund(Exception):
    """The gateway has no refund with that id."""


class GatewayUnavailable(Exception):
    """The gateway did not answer (an outage, a timeout): the same call may succeed later."""


class PaymentGateway(Protocol):
    def authorise(
        self,
        *,
        amount: Decimal,
        currency: str,
        token: str,
        reference: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Charge:
        """Hold `amount`; the same idempotency key returns the same charge (in its current
        state), never a second one. `reference` and `metadata` come back in its webhooks."""
        ...

    def capture(self, charge_id: str) -> Charge:
        """Take an authorised charge; a captured one stays as it is. The charge as it now is
        (VOIDED if its hold was released first). UnknownCharge if there is none."""
        ...

    def void(self, charge_id: str) -> Charge:
        """Release an authorised charge's hold; the charge as it now is (CAPTURED if it was
        captured first: only a refund gives that money back). UnknownCharge if there is none."""
        ...

    def retrieve(self, idempotency_key: str) -> Charge | None:
        """The charge authorised with this idempotency key, None if the gateway never saw it."""
        ...


class RefundStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # settled later by a signed `charge.refunded` webhook
    FAILED = "failed"


@dataclass(frozen=True)
class RefundOutcome:
    id: str
    status: RefundStatus
    failure_reason: str = ""
    currency: str | None = None  # ISO 4217, the one it was asked in


class RefundingGateway(Protocol):
    def refund(
        self,
        *,
        charge_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundOutcome:
        """Give back `amount` of a captured charge, never more than the charge has left, in
        the charge's currency (a refund in another is FAILED).

        The same idempotency key returns the same refund; `metadata` comes back in the
        gateway's webhooks about this refund.
        """
        ...

    def retrieve_refund(self, refund_id: str) -> RefundOutcome:
        """The refund with the gateway's id `refund_id` as it now is: PENDING until the
        gateway settles it, then SUCCEEDED or FAILED for good. UnknownRefund if there is
        none; GatewayUnavailable if the gateway cannot say now."""
        ...
