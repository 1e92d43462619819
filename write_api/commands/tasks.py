"""Housekeeping of the command log, scheduled by Celery beat (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from write_api.commands.models import IdempotencyRecord


@shared_task(acks_late=True)
def purge_expired_idempotency_keys() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
