"""Celery task of the fake gateway: deliver a signed webhook, retrying like a provider does."""

from __future__ import annotations

import json
from typing import Any

import requests
from celery import shared_task
from django.conf import settings

from write_api.payments.fake_gateway import settle
from write_api.payments.fake_refunds import settle_refund
from write_api.payments.gateway import RefundStatus
from write_api.payments.webhooks import HEADER, sign


@shared_task(bind=True, acks_late=True, max_retries=8, default_retry_delay=2)
def deliver_gateway_webhook(
    self,
    *,
    event_id: str,
    charge_id: str,
    reference: str,
    amount: str,
    currency: str,
    metadata: dict[str, str] | None = None,
    idempotency_key: str = "",
) -> int:
    """`charge.succeeded` with what a provider reports: the charge, its order, amount and the
    currency it was authorised in."""
    if idempotency_key:
        settle(idempotency_key)
    data = {
        "charge_id": charge_id,
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "metadata": metadata or {},
    }
    body = json.dumps({"id": event_id, "type": "charge.succeeded", "data": data}).encode()
    return _post_signed(self, body)


@shared_task(bind=True, acks_late=True, max_retries=8, default_retry_delay=2)
def deliver_refund_webhook(
    self,
    *,
    event_id: str,
    refund_id: str,
    charge_id: str,
    amount: str,
    currency: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> int:
    """`charge.refunded` (`charge.refund_failed` if the gateway refused it first): the
    gateway's refund id, its charge, amount and our metadata."""
    failed = settle_refund(idempotency_key) is RefundStatus.FAILED
    data = {
        "refund_id": refund_id,
        "charge_id": charge_id,
        "reference": metadata.get("order_id", ""),
        "amount": amount,
        "currency": currency,
        "metadata": metadata,
        **({"reason": "refund_failed"} if failed else {}),
    }
    kind = "charge.refund_failed" if failed else "charge.refunded"
    body = json.dumps({"id": event_id, "type": kind, "data": data}).encode()
    return _post_signed(self, body)


def _post_signed(task: Any, body: bytes) -> int:
    """POST a signed body to our webhook; anything but a 2xx is retried, as providers do."""
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
        raise task.retry(exc=error) from None
    if not 200 <= response.status_code < 300:
        raise task.retry(exc=RuntimeError(f"webhook answered {response.status_code}"))
    return response.status_code
