"""Housekeeping of the command log, scheduled by Celery beat (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from write_api.commands.models import IdempotencyRecord


# Named as when it lived in infra/: beat and queued messages know it by this name.
@shared_task(name="infra.tasks.purge_expired_idempotency_keys", acks_late=True)
def purge_expired_idempotency_keys() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
