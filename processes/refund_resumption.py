"""Resume refunds the gateway never answered (a crash or an outage between the refund's
request and the gateway call): the read model proposes them, each Order aggregate decides,
and the gateway sees the same idempotency key, so none is paid out twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.utils import timezone

from adapters.tracing import current_traceparent
from projections.shopping.models import OrderRefundView
from write_api.domain.errors import DomainError
from write_api.domain.metadata import CommandContext
from write_api.refunding import refunds

log = structlog.get_logger("shopstream.refunds")
BATCH = 500


def resume_stalled_refunds(older_than: timedelta, now: datetime | None = None) -> int:
    """Ask the gateway again about every refund requested longer ago than `older_than`."""
    now = now or timezone.now()
    candidates = OrderRefundView.objects.filter(
        status="requested", at__lte=now - older_than
    ).values_list("order_id", "id")[:BATCH]
    context = CommandContext(
        actor_role="system",
        request_id=f"refund-resume-{now.isoformat()}",
        traceparent=current_traceparent(),
    )
    resumed = 0
    for order_id, refund_id in candidates:
        try:
            resumed += refunds().resume_refund(order_id, refund_id, context=context)
        except DomainError as refused:  # declined, or changed since the read model saw it
            log.info("refund_resume_ended", refund_id=str(refund_id), reason=refused.code)
    if resumed:
        log.info("refunds_resumed", count=resumed)
    return resumed
