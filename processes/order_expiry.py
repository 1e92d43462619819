"""Expire orders left unpaid: the read model proposes candidates, each Order aggregate decides."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.utils import timezone

from adapters.progress import Report
from adapters.tracing import current_traceparent
from projections.shopping.models import OrderView
from write_api.application import shop
from write_api.domain.errors import DomainError
from write_api.domain.metadata import CommandContext

log = structlog.get_logger("shopstream.expiry")
BATCH = 500


def expire_overdue_orders(
    timeout: timedelta, now: datetime | None = None, progress: Report | None = None
) -> int:
    """Cancel every order unpaid for longer than `timeout`; return how many were expired.

    `progress(done, total)` is told after each candidate.
    """
    now = now or timezone.now()
    candidates = list(
        OrderView.objects.filter(status="pending_payment", created_at__lte=now - timeout)
        .exclude(payment="pending")
        .values_list("id", flat=True)[:BATCH]
    )
    context = CommandContext(
        actor_role="system",
        request_id=f"expiry-{now.isoformat()}",
        traceparent=current_traceparent(),
    )
    expired = 0
    for done, order_id in enumerate(candidates, start=1):
        try:
            expired += shop().expire_order(order_id, now=now, timeout=timeout, context=context)
        except DomainError as refused:  # changed since the read model saw it
            log.info("expiry_skipped", order_id=str(order_id), reason=refused.code)
        if progress:
            progress(done, len(candidates))
    if expired:
        log.info("orders_expired", count=expired)
    return expired
