"""Each gateway event takes effect once: its id is recorded with the outcome, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction

from write_api.commands.models import GatewayEvent
from write_api.payments.notices import GatewayNotice


def receive_once(notice: GatewayNotice, apply: Callable[[], str]) -> str | None:
    """Run `apply` for a new event id and record its outcome; None for a re-delivery."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = GatewayEvent.objects.create(event_id=notice.event_id, type=notice.type)
        except IntegrityError:
            return None
        record.outcome = apply()
        record.save(update_fields=["outcome"])
    return record.outcome
