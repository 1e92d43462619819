"""Refunds of the fake gateway: like a provider, never more than a charge has left.

The ledger (Redis, like the charges') keeps what each charge captured and how many cents
were refunded from it. A `tok_ok` charge is refunded at once; a `tok_async` one is
refunded later, through a signed `charge.refunded` webhook a Celery task delivers.
A repeated idempotency key returns the first refund, never a second one.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache

from write_api.payments.gateway import RefundOutcome, RefundStatus

LEDGER_SECONDS = 7 * 24 * 3600


def remember_charge(charge_id: str, amount: Decimal, *, settles_later: bool) -> None:
    """Called for each new charge: what a refund of it may give back, and how it settles."""
    record = {"amount": str(amount), "settles_later": settles_later}
    cache.add(_charge_key(charge_id), record, LEDGER_SECONDS)


class FakeRefunds:
    """The refund half of the fake gateway."""

    def refund(
        self,
        *,
        charge_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundOutcome:
        earlier = cache.get(_refund_key(idempotency_key))
        if earlier is not None:
            return _outcome(earlier)
        refund_id = "re_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        charge = cache.get(_charge_key(charge_id))
        cents = int(amount * 100)
        if charge is None:
            record = _record(refund_id, RefundStatus.FAILED, "unknown_charge")
        elif not _take(charge_id, cents, int(Decimal(charge["amount"]) * 100)):
            record = _record(refund_id, RefundStatus.FAILED, "amount_exceeds_charge")
        else:
            later = charge["settles_later"]
            record = _record(refund_id, RefundStatus.PENDING if later else RefundStatus.SUCCEEDED)
        if not cache.add(_refund_key(idempotency_key), record, LEDGER_SECONDS):
            if record["status"] != RefundStatus.FAILED.value:
                cache.decr(_refunded_key(charge_id), cents)  # a concurrent twin took it first
            return _outcome(cache.get(_refund_key(idempotency_key)) or record)
        if record["status"] == RefundStatus.PENDING.value:
            _call_back_later(refund_id, charge_id, amount, currency, metadata, idempotency_key)
        return _outcome(record)


def settle_refund(idempotency_key: str) -> None:
    """The pending refund under this key went through (its webhook is on its way)."""
    record = cache.get(_refund_key(idempotency_key))
    if record is not None:
        record["status"] = RefundStatus.SUCCEEDED.value
        cache.set(_refund_key(idempotency_key), record, LEDGER_SECONDS)


def refunded_cents(charge_id: str) -> int:
    """How much the gateway has refunded (or holds for pending refunds) of one charge."""
    return int(cache.get(_refunded_key(charge_id)) or 0)


def _take(charge_id: str, cents: int, captured: int) -> bool:
    """Hold `cents` of the charge atomically; False (and nothing held) beyond what it has left."""
    counter = _refunded_key(charge_id)
    cache.add(counter, 0, LEDGER_SECONDS)
    if cache.incr(counter, cents) <= captured:
        return True
    cache.decr(counter, cents)
    return False


def _call_back_later(
    refund_id: str,
    charge_id: str,
    amount: Decimal,
    currency: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> None:
    from write_api.payments.tasks import deliver_refund_webhook

    deliver_refund_webhook.apply_async(
        kwargs={
            "event_id": "evt_" + refund_id[3:],
            "refund_id": refund_id,
            "charge_id": charge_id,
            "amount": str(amount),
            "currency": currency,
            "metadata": metadata,
            "idempotency_key": idempotency_key,
        },
        countdown=settings.FAKE_GATEWAY_SETTLE_SECONDS,
    )


def _record(refund_id: str, status: RefundStatus, reason: str = "") -> dict[str, Any]:
    return {"id": refund_id, "status": status.value, "failure_reason": reason}


def _outcome(record: dict[str, Any]) -> RefundOutcome:
    return RefundOutcome(record["id"], RefundStatus(record["status"]), record["failure_reason"])


def _charge_key(charge_id: str) -> str:
    return f"fake-gateway:charge-by-id:{charge_id}"


def _refunded_key(charge_id: str) -> str:
    return f"fake-gateway:refunded:{charge_id}"


def _refund_key(idempotency_key: str) -> str:
    return "fake-gateway:refund:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
