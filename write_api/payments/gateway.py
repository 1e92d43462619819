"""The payment-gateway port: what a real provider (Stripe, Adyen, ...) implements for us."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class Outcome(enum.Enum):
    CAPTURED = "captured"
    DECLINED = "declined"
    PENDING = "pending"  # settled later by a signed webhook


@dataclass(frozen=True)
class Charge:
    id: str
    outcome: Outcome
    failure_reason: str = ""


class PaymentGateway(Protocol):
    def charge(
        self,
        *,
        amount: Decimal,
        currency: str,
        token: str,
        reference: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Charge:
        """Charge `amount`; the same idempotency key returns the same charge, never a second one.

        `reference` and `metadata` come back in the gateway's webhooks about this charge.
        """
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
        """Give back `amount` of a captured charge, never more than the charge has left.

        The same idempotency key returns the same refund; `metadata` comes back in the
        gateway's webhooks about this refund.
        """
        ...
