"""An in-memory payment gateway for unit tests: outcomes by token, a ledger by idempotency key."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from write_api.payments.gateway import Charge, Outcome, RefundOutcome, RefundStatus

OUTCOMES = {"tok_ok": Outcome.CAPTURED, "tok_declined": Outcome.DECLINED}


@dataclass
class RecordingGateway:
    """Like a provider: one charge per idempotency key; every call is kept for assertions."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    ledger: dict[str, Charge] = field(default_factory=dict)
    on_charge: Any = None  # called inside charge(), to interleave a concurrent payer

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
        self.calls.append(
            {
                "amount": amount,
                "currency": currency,
                "reference": reference,
                "idempotency_key": idempotency_key,
                "metadata": metadata,
            }
        )
        if self.on_charge is not None:
            hook, self.on_charge = self.on_charge, None
            hook()
        if idempotency_key not in self.ledger:
            outcome = OUTCOMES.get(token, Outcome.PENDING)
            reason = "card_declined" if outcome is Outcome.DECLINED else ""
            self.ledger[idempotency_key] = Charge(f"ch_{len(self.ledger) + 1}", outcome, reason)
        return self.ledger[idempotency_key]

    refunds: dict[str, RefundOutcome] = field(default_factory=dict)
    refund_status: RefundStatus = RefundStatus.SUCCEEDED  # what the next new refund answers

    def refund(
        self,
        *,
        charge_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundOutcome:
        self.calls.append(
            {"refund_of": charge_id, "amount": amount, "idempotency_key": idempotency_key,
             "metadata": metadata}
        )  # fmt: skip
        if idempotency_key not in self.refunds:
            reason = "card_expired" if self.refund_status is RefundStatus.FAILED else ""
            self.refunds[idempotency_key] = RefundOutcome(
                f"re_{len(self.refunds) + 1}", self.refund_status, reason
            )
        return self.refunds[idempotency_key]

    def charges_for(self, reference: str) -> int:
        keys = {c["idempotency_key"] for c in self.calls if c["reference"] == reference}
        return len(keys & set(self.ledger))
