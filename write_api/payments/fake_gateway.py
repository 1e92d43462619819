"""A fake gateway that behaves like a real one, for places where no real provider is reachable.

Tokens decide the outcome: `tok_ok` captures, `tok_declined` declines, `tok_async`
is pending and later settled by a signed `charge.succeeded` webhook that a Celery
task delivers (with retries), exactly as a provider calls back. Like a provider, it
keeps a ledger (in Redis, outside our database transactions): a repeated idempotency
key returns the first charge, whatever else the request says, and never a second one.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache

from write_api.payments.fake_refunds import FakeRefunds, remember_charge
from write_api.payments.gateway import Charge, Outcome

OUTCOMES = {
    "tok_ok": Outcome.CAPTURED,
    "tok_declined": Outcome.DECLINED,
    "tok_async": Outcome.PENDING,
}
LEDGER_SECONDS = 7 * 24 * 3600


class FakeGateway(FakeRefunds):
    """Deterministic outcomes by token; asynchronous charges call back through Celery."""

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
        charge_id = "ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        outcome = OUTCOMES.get(token, Outcome.DECLINED)
        record = {"id": charge_id, "outcome": outcome.value, "reference": reference}
        if not cache.add(_ledger_key(idempotency_key), record, LEDGER_SECONDS):
            return _charge(cache.get(_ledger_key(idempotency_key)) or record)
        counter = _charges_key(reference)
        cache.add(counter, 0, LEDGER_SECONDS)
        cache.incr(counter)
        if outcome is not Outcome.DECLINED:
            remember_charge(charge_id, amount, settles_later=outcome is Outcome.PENDING)
        if outcome is Outcome.PENDING:
            from write_api.payments.tasks import deliver_gateway_webhook

            deliver_gateway_webhook.apply_async(
                kwargs={
                    "event_id": "evt_" + charge_id[3:],
                    "charge_id": charge_id,
                    "reference": reference,
                    "amount": str(amount),
                    "currency": currency,
                    "metadata": metadata,
                    "idempotency_key": idempotency_key,
                },
                countdown=settings.FAKE_GATEWAY_SETTLE_SECONDS,
            )
        return _charge(record)


def settle(idempotency_key: str) -> None:
    """The pending charge under this key is captured (its webhook is on its way)."""
    record = cache.get(_ledger_key(idempotency_key))
    if record is not None:
        record["outcome"] = Outcome.CAPTURED.value
        cache.set(_ledger_key(idempotency_key), record, LEDGER_SECONDS)


def charges_made(reference: str) -> int:
    """How many distinct charges the gateway made for `reference` (an order id)."""
    return int(cache.get(_charges_key(reference)) or 0)


def _charge(record: dict[str, Any]) -> Charge:
    outcome = Outcome(record["outcome"])
    return Charge(record["id"], outcome, "card_declined" if outcome is Outcome.DECLINED else "")


def _ledger_key(idempotency_key: str) -> str:
    return "fake-gateway:charge:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _charges_key(reference: str) -> str:
    return f"fake-gateway:charges:{reference}"
