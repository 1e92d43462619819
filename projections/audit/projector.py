"""Audit projector: copies every event into the audit log (re-deliveries are ignored), and
keeps the products' state checkpoints (`projections.audit.product_checkpoints`)."""

from __future__ import annotations

from typing import Any

from projections.audit import product_checkpoints
from projections.audit.models import AuditEvent
from write_api.published_events import AGGREGATE_TYPES


class AuditProjector:
    """Keeps the whole event history queryable for admins and analysts."""

    name = "audit"
    aggregate_types = AGGREGATE_TYPES

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        before = product_checkpoints.before_storing(envelopes)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    event_id=e["event_id"],
                    position=e["position"],
                    aggregate_type=e["aggregate_type"],
                    aggregate_id=e["aggregate_id"],
                    version=e["version"],
                    type=e["type"],
                    schema=e["schema"],
                    actor_id=e["actor"]["id"] or "",
                    actor_role=e["actor"]["role"] or "",
                    request_id=e.get("request_id") or "",
                    correlation_id=e.get("correlation_id") or "",
                    occurred_at=e["occurred_at"],
                    data=e["data"],
                )
                for e in envelopes
            ],
            ignore_conflicts=True,
        )
        product_checkpoints.record(envelopes, before)
