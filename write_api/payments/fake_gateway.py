"""A fake gateway that behaves like a real one, for places where no real provider is reachable.

Tokens decide the outcome: `tok_ok` captures, `tok_declined` declines, `tok_async`
is pending and later settled by a signed `charge.succeeded` webhook that a Celery
task delivers (with retries), exactly as a provider calls back. A repeated
idempotency key returns the first charge.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings

from write_api.payments.gateway import Charge, Outcome

OUTCOMES = {
    "tok_ok": Outcome.CAPTURED,
    "tok_declined": Outcome.DECLINED,
    "tok_async": Outcome.PENDING,
}


class FakeGateway:
    """Deterministic outcomes by token; asynchronous charges call back through Celery."""

    def charge(
        self, *, amount: Decimal, currency: str, token: str, reference: str, idempotency_key: str
    ) -> Charge:
        charge_id = "ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        outcome = OUTCOMES.get(token, Outcome.DECLINED)
        if outcome is Outcome.PENDING:
            from write_api.payments.tasks import deliver_gateway_webhook

            deliver_gateway_webhook.apply_async(
                kwargs={
                    "event_id": "evt_" + charge_id[3:],
                    "charge_id": charge_id,
                    "reference": reference,
                    "amount": str(amount),
                },
                countdown=settings.FAKE_GATEWAY_SETTLE_SECONDS,
            )
        reason = "" if outcome is not Outcome.DECLINED else "card_declined"
        return Charge(charge_id, outcome, reason)
