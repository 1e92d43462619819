"""A fake gateway that behaves like a real one, for places where no real provider is reachable.

Tokens decide the outcome: `tok_ok` authorises (then captures when asked), `tok_declined`
declines at authorisation, `tok_async` is pending and later captured by the gateway itself,
which tells us with a signed `charge.succeeded` webhook that a Celery task delivers (with
retries), exactly as a provider calls back. Like a provider, it keeps a ledger (in Redis,
outside our database transactions): a repeated idempotency key returns the first charge,
whatever else the request says, and never a second one; a charge moves from authorised to
captured or voided once, under a lock, so a capture racing a void ends as one of them.
"""

from __future__ import annotations

import contextlib
import hashlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from write_api.payments.fake_refunds import FakeRefunds, remember_charge
from write_api.payments.gateway import Charge, Outcome, UnknownCharge

OUTCOMES = {
    "tok_ok": Outcome.AUTHORISED,
    "tok_declined": Outcome.DECLINED,
    "tok_async": Outcome.PENDING,
}
LEDGER_SECONDS = 7 * 24 * 3600
LOCK_SECONDS = 5


class FakeGateway(FakeRefunds):
    """Deterministic outcomes by token; asynchronous charges call back through Celery."""

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
        charge_id = "ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        outcome = OUTCOMES.get(token, Outcome.DECLINED)
        record = {
            "id": charge_id,
            "outcome": outcome.value,
            "reference": reference,
            "amount": str(amount),
            "currency": currency,
        }
        cache.set(_key_of_charge(charge_id), idempotency_key, LEDGER_SECONDS)  # derived: same
        if not cache.add(_ledger_key(idempotency_key), record, LEDGER_SECONDS):
            return _charge(cache.get(_ledger_key(idempotency_key)) or record)
        counter = _charges_key(reference)
        cache.add(counter, 0, LEDGER_SECONDS)
        cache.incr(counter)
        if outcome is not Outcome.DECLINED:
            remember_charge(charge_id, amount, currency, settles_later=outcome is Outcome.PENDING)
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

    def capture(self, charge_id: str) -> Charge:
        return _move(_idempotency_key_of(charge_id), Outcome.AUTHORISED, Outcome.CAPTURED)

    def void(self, charge_id: str) -> Charge:
        return _move(_idempotency_key_of(charge_id), Outcome.AUTHORISED, Outcome.VOIDED)

    def retrieve(self, idempotency_key: str) -> Charge | None:
        record = cache.get(_ledger_key(idempotency_key))
        return None if record is None else _charge(record)

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
        """Authorise and capture in one call (a provider's automatic capture)."""
        held = self.authorise(
            amount=amount,
            currency=currency,
            token=token,
            reference=reference,
            idempotency_key=idempotency_key,
            metadata=metadata,
        )
        return self.capture(held.id) if held.outcome is Outcome.AUTHORISED else held


def settle(idempotency_key: str) -> None:
    """The pending charge under this key is captured (its webhook is on its way)."""
    with contextlib.suppress(UnknownCharge):  # the webhook still tells what was decided
        _move(idempotency_key, Outcome.PENDING, Outcome.CAPTURED)


def charges_made(reference: str) -> int:
    """How many distinct charges the gateway authorised for `reference` (an order id)."""
    return int(cache.get(_charges_key(reference)) or 0)


def _move(idempotency_key: str, source: Outcome, target: Outcome) -> Charge:
    """Move the charge from `source` to `target` if it is there; the charge as it now is."""
    key = _ledger_key(idempotency_key)
    lock = get_redis_connection("default").lock(
        cache.make_key(key + ":lock"), timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS
    )
    with lock:
        record = cache.get(key)
        if record is None:
            raise UnknownCharge(f"No charge under idempotency key {idempotency_key!r}.")
        if record["outcome"] == source.value:
            record["outcome"] = target.value
            cache.set(key, record, LEDGER_SECONDS)
    return _charge(record)


def _idempotency_key_of(charge_id: str) -> str:
    idempotency_key = cache.get(_key_of_charge(charge_id))
    if idempotency_key is None:
        raise UnknownCharge(f"No charge {charge_id!r}.")
    return str(idempotency_key)


def _charge(record: dict[str, Any]) -> Charge:
    outcome = Outcome(record["outcome"])
    reason = "card_declined" if outcome is Outcome.DECLINED else ""
    amount = Decimal(record["amount"]) if "amount" in record else None
    return Charge(record["id"], outcome, reason, amount, record.get("currency"))


def _ledger_key(idempotency_key: str) -> str:
    return "fake-gateway:charge:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _key_of_charge(charge_id: str) -> str:
    return f"fake-gateway:charge-key:{charge_id}"


def _charges_key(reference: str) -> str:
    return f"fake-gateway:charges:{reference}"
