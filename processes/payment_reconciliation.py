"""Settle payment attempts left without an outcome: the read model's index of orders with an
attempt in flight proposes the stalled ones, the gateway says what happened, the order decides.
Refunds left pending at the gateway are settled in the same round (refund_reconciliation.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

import structlog
from django.utils import timezone

from adapters.progress import Report
from adapters.tracing import current_traceparent
from processes.refund_reconciliation import stalled_refund_steps
from projections.shopping.models import OrderView
from write_api.domain.errors import DomainError
from write_api.domain.metadata import CommandContext
from write_api.metrics import PAYMENT_RECONCILIATIONS
from write_api.payments.gateway import UnknownCharge
from write_api.payments.service import reconciliation

log = structlog.get_logger("shopstream.reconciliation")
BATCH = 200
Settle = Callable[..., str]


def reconcile_stalled_payments(
    stale_after: timedelta, now: datetime | None = None, progress: Report | None = None
) -> Counter[str]:
    """Settle every attempt without progress for `stale_after`, and every refund pending at
    the gateway as long; how many ended each way.

    `progress(done, total)` is told after each attempt or refund (each is a call to the gateway).
    """
    now = now or timezone.now()
    context = CommandContext(
        actor_role="system",
        request_id=f"reconciliation-{now.isoformat()}",
        traceparent=current_traceparent(),
    )
    steps = _payment_steps(stale_after, now, context)
    steps += stalled_refund_steps(stale_after, now, context)
    outcomes: Counter[str] = Counter()
    for done, step in enumerate(steps, start=1):
        outcomes[step()] += 1
        if progress:
            progress(done, len(steps))
    for outcome, count in outcomes.items():
        PAYMENT_RECONCILIATIONS.labels(outcome).inc(count)
    if outcomes:
        log.info("payments_reconciled", **outcomes)
    return outcomes


def _payment_steps(
    stale_after: timedelta, now: datetime, context: CommandContext
) -> list[Callable[[], str]]:
    candidates = list(
        OrderView.objects.filter(payment="pending", updated_at__lte=now - stale_after)
        .order_by("updated_at")
        .values_list("id", flat=True)[:BATCH]
    )
    if not candidates:
        return []
    settle = reconciliation(stale_after).settle
    return [partial(_settle, settle, order_id, context) for order_id in candidates]


def _settle(settle: Settle, order_id: UUID, context: CommandContext) -> str:
    try:
        return settle(order_id, context=context)
    except DomainError as refused:  # changed since the read model saw it; next round
        log.info("reconciliation_skipped", order_id=str(order_id), reason=refused.code)
        return "skipped"
    except UnknownCharge as unknown:  # the gateway lost a charge it answered: a person acts
        log.error("reconciliation_unknown_charge", order_id=str(order_id), error=str(unknown))
        return "unknown_charge"
