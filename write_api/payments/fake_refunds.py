"""Refunds of the fake gateway: like a provider, never more than a charge has left, and only
in the charge's currency.

The ledger (Redis, like the charges') keeps what each charge captured, in which currency,
and how many cents were refunded from it. A `tok_ok` charge is refunded at once; a
`tok_async` one is refunded later, through a signed `charge.refunded` webhook a Celery task
delivers.
A repeated idempotency key returns the first refund, never a second one.

Like a provider, the gateway settles a pending refund whether or not its webhook gets
through: once FAKE_GATEWAY_SETTLE_SECONDS have passed, `retrieve_refund` says SUCCEEDED
even if the webhook task was lost. `fail_refund` makes the gateway refuse a pending refund
instead (what a closed card account does), which gives its amount back to the charge.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from write_api.payments.gateway import RefundOutcome, RefundStatus, UnknownRefund

LEDGER_SECONDS = 7 * 24 * 3600
LOCK_SECONDS = 5


def remember_charge(charge_id: str, amount: Decimal, currency: str, *, settles_later: bool) -> None:
    """Called for each new charge: what a refund of it may give back, in which currency, and
    how it settles."""
    record = {"amount": str(amount), "currency": currency, "settles_later": settles_later}
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
        cache.set(_key_of_refund(refund_id), idempotency_key, LEDGER_SECONDS)  # derived: same
        charge = cache.get(_charge_key(charge_id))
        cents = int(amount * 100)
        if charge is None:
            record = _record(refund_id, currency, RefundStatus.FAILED, "unknown_charge")
        elif currency != charge.get("currency", currency):  # older ledger rows lack it
            record = _record(refund_id, currency, RefundStatus.FAILED, "currency_mismatch")
        elif not _take(charge_id, cents, int(Decimal(charge["amount"]) * 100)):
            record = _record(refund_id, currency, RefundStatus.FAILED, "amount_exceeds_charge")
        else:
            status = RefundStatus.PENDING if charge["settles_later"] else RefundStatus.SUCCEEDED
            record = _record(refund_id, currency, status)
            record |= {"charge_id": charge_id, "cents": cents, "settles_at": _settle_time()}
        if not cache.add(_refund_key(idempotency_key), record, LEDGER_SECONDS):
            if record["status"] != RefundStatus.FAILED.value:
                cache.decr(_refunded_key(charge_id), cents)  # a concurrent twin took it first
            return _outcome(cache.get(_refund_key(idempotency_key)) or record)
        if record["status"] == RefundStatus.PENDING.value:
            _call_back_later(refund_id, charge_id, amount, currency, metadata, idempotency_key)
        return _outcome(record)

    def retrieve_refund(self, refund_id: str) -> RefundOutcome:
        idempotency_key = cache.get(_key_of_refund(refund_id))
        if idempotency_key is None:
            raise UnknownRefund(f"No refund {refund_id!r}.")
        record = cache.get(_refund_key(idempotency_key))
        if record is None:
            raise UnknownRefund(f"No refund {refund_id!r}.")
        if record["status"] == RefundStatus.PENDING.value and _is_due(record):
            now, _ = _move(idempotency_key, RefundStatus.SUCCEEDED)
            record = now or record
        return _outcome(record)


def settle_refund(idempotency_key: str) -> RefundStatus | None:
    """The pending refund under this key went through (its webhook is on its way); how it
    ended (FAILED if the gateway refused it first), None if there is no such refund."""
    record, _ = _move(idempotency_key, RefundStatus.SUCCEEDED)
    return None if record is None else RefundStatus(record["status"])


def fail_refund(idempotency_key: str, reason: str) -> None:
    """The gateway refuses the pending refund under this key: the charge has its amount back."""
    record, moved = _move(idempotency_key, RefundStatus.FAILED, reason)
    if moved and record is not None and "charge_id" in record:
        cache.decr(_refunded_key(record["charge_id"]), record["cents"])


def refunded_cents(charge_id: str) -> int:
    """How much the gateway has refunded (or holds for pending refunds) of one charge."""
    return int(cache.get(_refunded_key(charge_id)) or 0)


def _move(
    idempotency_key: str, target: RefundStatus, reason: str = ""
) -> tuple[dict[str, Any] | None, bool]:
    """Move a PENDING refund to `target` once, under a lock: the record as it now is, and
    whether this call moved it."""
    key = _refund_key(idempotency_key)
    lock = get_redis_connection("default").lock(
        cache.make_key(key + ":lock"), timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS
    )
    with lock:
        record: dict[str, Any] | None = cache.get(key)
        if record is None or record["status"] != RefundStatus.PENDING.value:
            return record, False
        record |= {"status": target.value, "failure_reason": reason}
        cache.set(key, record, LEDGER_SECONDS)
    return record, True


def _settle_time() -> float:
    return time.time() + float(settings.FAKE_GATEWAY_SETTLE_SECONDS)


def _is_due(record: dict[str, Any]) -> bool:
    return time.time() >= float(record.get("settles_at", 0))


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


def _record(
    refund_id: str, currency: str, status: RefundStatus, reason: str = ""
) -> dict[str, Any]:
    return {"id": refund_id, "status": status.value, "failure_reason": reason, "currency": currency}


def _outcome(record: dict[str, Any]) -> RefundOutcome:
    status = RefundStatus(record["status"])
    return RefundOutcome(record["id"], status, record["failure_reason"], record.get("currency"))


def _charge_key(charge_id: str) -> str:
    return f"fake-gateway:charge-by-id:{charge_id}"


def _refunded_key(charge_id: str) -> str:
    return f"fake-gateway:refunded:{charge_id}"


def _key_of_refund(refund_id: str) -> str:
    return f"fake-gateway:refund-key:{refund_id}"


def _refund_key(idempotency_key: str) -> str:
    return "fake-gateway:refund:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
