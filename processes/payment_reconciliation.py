"""Settle payment attempts left without an outcome: the read model's index of orders with an
attempt in flight proposes the stalled ones, the gateway says what happened, the order decides."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import structlog
from django.utils import timezone

from adapters.progress import Report
from adapters.tracing import current_traceparent
from projections.shopping.models import OrderView
from write_api.domain.errors import DomainError
from write_api.domain.metadata import CommandContext
from write_api.metrics import PAYMENT_RECONCILIATIONS
from write_api.payments.gateway import UnknownCharge
from write_api.payments.service import reconciliation

log = structlog.get_logger("shopstream.reconciliation")
BATCH = 200


def reconcile_stalled_payments(
    stale_after: timedelta, now: datetime | None = None, progress: Report | None = None
) -> Counter[str]:
    """Settle every attempt without progress for `stale_after`; how many ended each way.

    `progress(done, total)` is told after each attempt (each is a call to the gateway).
    """
    now = now or timezone.now()
    candidates = list(
        OrderView.objects.filter(payment="pending", updated_at__lte=now - stale_after)
        .order_by("updated_at")
        .values_list("id", flat=True)[:BATCH]
    )
    settle = reconciliation(stale_after).settle
    context = CommandContext(
        actor_role="system",
        request_id=f"reconciliation-{now.isoformat()}",
        traceparent=current_traceparent(),
    )
    outcomes: Counter[str] = Counter()
    for done, order_id in enumerate(candidates, start=1):
        try:
            outcomes[settle(order_id, context=context)] += 1
        except DomainError as refused:  # changed since the read model saw it; next round
            log.info("reconciliation_skipped", order_id=str(order_id), reason=refused.code)
            outcomes["skipped"] += 1
        except UnknownCharge as unknown:  # the gateway lost a charge it answered: a person acts
            log.error("reconciliation_unknown_charge", order_id=str(order_id), error=str(unknown))
            outcomes["unknown_charge"] += 1
        if progress:
            progress(done, len(candidates))
    for outcome, count in outcomes.items():
        PAYMENT_RECONCILIATIONS.labels(outcome).inc(count)
    if outcomes:
        log.info("payments_reconciled", **outcomes)
    return outcomes
