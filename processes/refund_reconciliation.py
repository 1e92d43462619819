"""Settle refunds the gateway left pending and never told us about (a lost `charge.refunded`
webhook, an outage at either end): the read model proposes those pending past the stale
threshold, the gateway says what became of each, the order records it as the webhook would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

import structlog

from projections.shopping.models import OrderRefundView
from write_api.domain.errors import DomainError
from write_api.domain.metadata import CommandContext
from write_api.payments.gateway import GatewayUnavailable, UnknownRefund
from write_api.refunding import Refunds, refunds

log = structlog.get_logger("shopstream.reconciliation")
BATCH = 200


def stalled_refund_steps(
    stale_after: timedelta, now: datetime, context: CommandContext
) -> list[Callable[[], str]]:
    """One step per refund pending at the gateway for `stale_after`; each returns its outcome."""
    candidates = list(
        OrderRefundView.objects.filter(status="pending", at__lte=now - stale_after)
        .order_by("at")
        .values_list("order_id", "id")[:BATCH]
    )
    if not candidates:
        return []
    use_cases = refunds()
    return [partial(_settle, use_cases, order, refund, context) for order, refund in candidates]


def _settle(use_cases: Refunds, order_id: UUID, refund_id: UUID, context: CommandContext) -> str:
    try:
        return use_cases.reconcile_refund(order_id, refund_id, context=context)
    except DomainError as refused:  # changed since the read model saw it; next round
        log.info("refund_reconciliation_skipped", refund_id=str(refund_id), reason=refused.code)
        return "refund_skipped"
    except GatewayUnavailable as outage:  # still pending: the next round asks again
        log.warning(
            "refund_reconciliation_unreachable", refund_id=str(refund_id), error=str(outage)
        )
        return "refund_unreachable"
    except UnknownRefund as unknown:  # the gateway lost a refund it answered: a person acts
        log.error("refund_reconciliation_unknown", refund_id=str(refund_id), error=str(unknown))
        return "refund_unknown"
