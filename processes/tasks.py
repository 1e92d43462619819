"""Periodic processes scheduled by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from processes.order_expiry import expire_overdue_orders
from processes.refund_resumption import resume_stalled_refunds


# Task names are the wire contract with beat and queued messages: kept from when the
# task lived in infra/, so a rolling deploy (or a queue holding old tasks) still matches.
@shared_task(name="infra.tasks.expire_unpaid_orders", acks_late=True)
def expire_unpaid_orders() -> int:
    return expire_overdue_orders(timedelta(seconds=settings.ORDER_PAYMENT_TIMEOUT_SECONDS))


@shared_task(name="processes.tasks.resume_stalled_refunds", acks_late=True)
def resume_stalled_refunds_task() -> int:
    return resume_stalled_refunds(timedelta(seconds=settings.REFUND_RESUME_SECONDS))
