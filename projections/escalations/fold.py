"""Escalation events into their rows and messages, for the shopping projector.

A batch reads the rows it touches once (locked), folds the events in memory and writes
them back in a few statements; versions make a re-delivered event a no-op.
"""

from __future__ import annotations

from typing import Any, cast

from contracts import event_types as events
from contracts import payloads
from projections.escalations.models import EscalationMessageView, EscalationView
from projections.row_updates import update_rows

Envelope = dict[str, Any]
FIELDS = ["status", "resolved_at", "resolution", "refund", "version"]
# Events that say something to the parties (a refund's start or abandonment only moves state).
WITH_MESSAGE = {events.ESCALATION_MESSAGE_POSTED, events.ESCALATION_RESOLVED}


def apply_escalations(envelopes: list[Envelope]) -> None:
    ids = sorted({e["aggregate_id"] for e in envelopes})
    rows = {str(r.id): r for r in EscalationView.objects.select_for_update().filter(id__in=ids)}
    opened: dict[str, EscalationView] = {}
    messages: list[EscalationMessageView] = []
    moved: set[str] = set()
    for envelope in envelopes:
        aggregate_id = envelope["aggregate_id"]
        if envelope["type"] == events.ESCALATION_OPENED:
            if aggregate_id not in rows:
                rows[aggregate_id] = opened[aggregate_id] = _opened(envelope)
                messages.append(_message(opened[aggregate_id], envelope))
            continue
        row = rows.get(aggregate_id)
        if row is None:
            raise EscalationView.DoesNotExist(f"{envelope['type']} before opening: {aggregate_id}")
        if envelope["version"] <= row.version:
            continue
        _fold(row, envelope)
        if envelope["type"] in WITH_MESSAGE:
            messages.append(_message(row, envelope))
        moved.add(aggregate_id)
    EscalationView.objects.bulk_create(opened.values())
    update_rows(EscalationView, [rows[i] for i in sorted(moved - set(opened))], FIELDS)
    EscalationMessageView.objects.bulk_create(messages)


def _opened(envelope: Envelope) -> EscalationView:
    data = cast(payloads.EscalationOpened, envelope["data"])
    return EscalationView(
        id=envelope["aggregate_id"],
        order_id=data["order_id"],
        customer_id=data["customer_id"],
        status="open",
        reason=data["reason"],
        opened_at=envelope["occurred_at"],
        version=envelope["version"],
    )


def _fold(row: EscalationView, envelope: Envelope) -> None:
    if envelope["type"] == events.ESCALATION_RESOLVED:
        data = cast(payloads.EscalationResolved, envelope["data"])
        row.status, row.resolution, row.refund = "resolved", data["resolution"], data["refund"]
        row.resolved_at = envelope["occurred_at"]
    row.version = envelope["version"]


def _message(row: EscalationView, envelope: Envelope) -> EscalationMessageView:
    return EscalationMessageView(
        escalation=row,
        by=envelope["actor"]["id"] or "",
        role=envelope["actor"]["role"] or "",
        message=envelope["data"]["message"],
        at=envelope["occurred_at"],
        version=envelope["version"],
    )
