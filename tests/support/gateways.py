"""An in-memory payment gateway for unit tests: outcomes by token, a ledger by idempotency key."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from write_api.payments.gateway import (
    Charge,
    GatewayUnavailable,
    Outcome,
    RefundOutcome,
    RefundStatus,
    UnknownCharge,
    UnknownRefund,
)

OUTCOMES = {"tok_ok": Outcome.AUTHORISED, "tok_declined": Outcome.DECLINED}
MOVES = {"capture": Outcome.CAPTURED, "void": Outcome.VOIDED}


@dataclass
class RecordingGateway:
    """Like a provider: one charge per idempotency key; every call is kept for assertions."""

    calls: list[dict[str, Any]] = field(default_factory=list)  # authorisations
    moves: list[tuple[str, str]] = field(default_factory=list)  # (capture|void, charge id)
    ledger: dict[str, Charge] = field(default_factory=dict)
    on_charge: Any = None  # called inside authorise(), to interleave a concurrent payer

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
            charge_id = f"ch_{len(self.ledger) + 1}"
            self.ledger[idempotency_key] = Charge(charge_id, outcome, reason, amount)
        return self.ledger[idempotency_key]

    def capture(self, charge_id: str) -> Charge:
        return self._move(charge_id, "capture")

    def void(self, charge_id: str) -> Charge:
        return self._move(charge_id, "void")

    def retrieve(self, idempotency_key: str) -> Charge | None:
        return self.ledger.get(idempotency_key)

    def _move(self, charge_id: str, action: str) -> Charge:
        [key] = [k for k, c in self.ledger.items() if c.id == charge_id] or [None]
        if key is None:
            raise UnknownCharge(charge_id)
        self.moves.append((action, charge_id))
        if self.ledger[key].outcome is Outcome.AUTHORISED:
            self.ledger[key] = replace(self.ledger[key], outcome=MOVES[action])
        return self.ledger[key]

    refunds: dict[str, RefundOutcome] = field(default_factory=dict)
    refund_status: RefundStatus = RefundStatus.SUCCEEDED  # what the next new refund answers
    refunds_unreachable: bool = False  # a refund call fails as a network error would

    def refund(
        self,
        *,
        charge_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundOutcome:
        if self.refunds_unreachable:
            raise ConnectionError("gateway unreachable")
        self.calls.append(
            {"refund_of": charge_id, "amount": amount, "currency": currency,
             "idempotency_key": idempotency_key, "metadata": metadata}
        )  # fmt: skip
        if idempotency_key not in self.refunds:
            reason = "card_expired" if self.refund_status is RefundStatus.FAILED else ""
            self.refunds[idempotency_key] = RefundOutcome(
                f"re_{len(self.refunds) + 1}", self.refund_status, reason
            )
        return self.refunds[idempotency_key]

    def retrieve_refund(self, refund_id: str) -> RefundOutcome:
        if self.refunds_unreachable:
            raise GatewayUnavailable("gateway unreachable")
        for refund in self.refunds.values():
            if refund.id == refund_id:
                return refund
        raise UnknownRefund(refund_id)

    def charges_for(self, reference: str) -> int:
        keys = {c["idempotency_key"] for c in self.calls if c.get("reference") == reference}
        return len(keys & set(self.ledger))
