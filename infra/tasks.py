"""Periodic work scheduled by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from infra.order_expiry import expire_overdue_orders
from write_api.commands.models import IdempotencyRecord


@shared_task(acks_late=True)
def expire_unpaid_orders() -> int:
    return expire_overdue_orders(timedelta(seconds=settings.ORDER_PAYMENT_TIMEOUT_SECONDS))


@shared_task(acks_late=True)
def purge_expired_idempotency_keys() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
