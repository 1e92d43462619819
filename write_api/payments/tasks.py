"""Celery task of the fake gateway: deliver a signed webhook, retrying like a provider does."""

from __future__ import annotations

import json

import requests
from celery import shared_task
from django.conf import settings

from write_api.payments.webhooks import HEADER, sign


@shared_task(bind=True, acks_late=True, max_retries=8, default_retry_delay=2)
def deliver_gateway_webhook(
    self,
    *,
    event_id: str,
    charge_id: str,
    reference: str,
    amount: str,  # type: ignore[no-untyped-def]
) -> int:
    body = json.dumps(
        {
            "id": event_id,
            "type": "charge.succeeded",
            "data": {"charge_id": charge_id, "reference": reference, "amount": amount},
        }
    ).encode()
    try:
        response = requests.post(
            settings.PAYMENT_WEBHOOK_URL,
            data=body,
            headers={
                "Content-Type": "application/json",
                HEADER: sign(body, settings.PAYMENT_WEBHOOK_SECRET),
            },
            timeout=10,
        )
    except requests.RequestException as error:
        raise self.retry(exc=error) from None
    if response.status_code >= 500:
        raise self.retry(exc=RuntimeError(f"webhook answered {response.status_code}"))
    return response.status_code
