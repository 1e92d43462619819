"""Product state checkpoints: the catalog fold of a product's audit rows, kept every so often.

Time travel over a product (its state as of a time, a page of its history) folds from the
nearest checkpoint before what it shows instead of from the product's first event, so its
cost does not grow with the product's history. The audit projector keeps them in the
transaction that stores the rows: a product gets a checkpoint at its first audit row at
least `AUDIT_CHECKPOINT_EVERY` versions after its previous one (or after version 0), folded
from that previous checkpoint and the rows in between, so a checkpoint costs a bounded read
once per that many events. Where the rows are fixed the checkpoints are too (a replay of
audit builds the same ones, and fills them for a history older than this table).

A product's events reach the audit log in version order (one Kafka partition per
aggregate; later events park behind a parked one). Should a row land below a checkpoint
all the same, the checkpoints from its version on are dropped and built again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog
from django.conf import settings

from projections.audit.models import AuditEvent, ProductStateCheckpoint
from projections.catalog.product_state import State, evolve

log = structlog.get_logger("shopstream.audit")
PRODUCT = "Product"
FOLD_CHUNK = 1_000  # audit rows read at once while folding towards checkpoints
# Types a state may hold beyond JSON's, tagged so that the state comes back exactly.
_TAGS: dict[str, tuple[type, Any]] = {
    "datetime": (datetime, datetime.fromisoformat),
    "decimal": (Decimal, Decimal),
    "uuid": (UUID, UUID),
}


def every() -> int:
    return max(1, int(settings.AUDIT_CHECKPOINT_EVERY))


def envelope_of(event: AuditEvent) -> dict[str, Any]:
    """The part of the published envelope `evolve` reads, from its audit row."""
    return {
        "aggregate_id": str(event.aggregate_id),
        "version": event.version,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "data": event.data,
    }


def encode(state: State) -> dict[str, Any]:
    return {field: _encoded(value) for field, value in state.items()}


def decode(stored: dict[str, Any]) -> State:
    return {field: _decoded(value) for field, value in stored.items()}


@dataclass(frozen=True)
class Before:
    """What `record` needs of the checkpoints as they were before the batch was stored."""

    latest: dict[str, int]  # each of the batch's products' latest checkpoint version
    late: list[dict[str, Any]]  # its product events at or below that, new to the audit log


def before_storing(envelopes: list[dict[str, Any]]) -> Before:
    """Before the batch is stored: its products' latest checkpoints, and its events at or
    below one that the audit log does not hold yet (normally none; re-deliveries are held)."""
    batch = [e for e in envelopes if e["aggregate_type"] == PRODUCT]
    latest = _latest_versions({e["aggregate_id"] for e in batch})
    below = [e for e in batch if e["version"] <= latest.get(e["aggregate_id"], 0)]
    if not below:
        return Before(latest, [])
    ids = [e["event_id"] for e in below]
    held = {
        str(i) for i in AuditEvent.objects.filter(event_id__in=ids).values_list("pk", flat=True)
    }
    return Before(latest, [e for e in below if str(e["event_id"]) not in held])


def record(envelopes: list[dict[str, Any]], before: Before) -> None:
    """After the batch's rows are stored: the checkpoints its products have come due for.
    Only a product with late rows lost checkpoints since `before`, and it is extended anyway."""
    late = before.late
    dropped = sorted({e["aggregate_id"] for e in late})
    for product_id in dropped:
        _drop_from(product_id, min(e["version"] for e in late if e["aggregate_id"] == product_id))
    newest: dict[str, int] = {}
    for e in envelopes:
        if e["aggregate_type"] == PRODUCT:
            newest[e["aggregate_id"]] = max(e["version"], newest.get(e["aggregate_id"], 0))
    for product_id in sorted(newest):
        due = newest[product_id] >= before.latest.get(product_id, 0) + every()
        if product_id in dropped or due:
            _extend(product_id)


def _latest_versions(product_ids: Iterable[str]) -> dict[str, int]:
    found = (
        ProductStateCheckpoint.objects.filter(product_id__in=sorted(product_ids))
        .order_by("product_id", "-version")
        .distinct("product_id")
        .values_list("product_id", "version")
    )
    return {str(product_id): version for product_id, version in found}


def _drop_from(product_id: str, version: int) -> None:
    log.warning("product_checkpoints_rebuilt", product_id=product_id, from_version=version)
    ProductStateCheckpoint.objects.filter(product_id=product_id, version__gte=version).delete()


def _extend(product_id: str) -> None:
    """Fold from the latest checkpoint through the stored rows, checkpointing when due."""
    start = ProductStateCheckpoint.objects.filter(product_id=product_id).order_by("-version")
    base = start.first()
    state = decode(base.state) if base else None
    last, rows = (base.version, base.rows) if base else (0, 0)
    latest_at = base.occurred_at if base else None
    due = []
    try:
        for event in _rows_after(product_id, last):
            state, rows = evolve(state, envelope_of(event)), rows + 1
            latest_at = max(latest_at or event.occurred_at, event.occurred_at)
            if event.version >= last + every() and state is not None:
                due.append(_checkpoint(product_id, event.version, rows, latest_at, state))
                last = event.version
    except (KeyError, TypeError, ValueError) as error:
        # The catalog fold cannot read this history: time travel fails on it as well. The
        # audit rows are stored regardless; the product just gets no (further) checkpoint.
        log.warning("product_checkpoint_unfoldable", product_id=product_id, error=repr(error))
    ProductStateCheckpoint.objects.bulk_create(due, ignore_conflicts=True)


def _rows_after(product_id: str, version: int) -> Iterator[AuditEvent]:
    """The product's rows after `version` in version order, read a chunk at a time (a
    history older than the checkpoints is folded whole, once)."""
    while True:
        found = AuditEvent.objects.filter(
            aggregate_type=PRODUCT, aggregate_id=product_id, version__gt=version
        )
        chunk = list(found.order_by("version")[:FOLD_CHUNK])
        yield from chunk
        if len(chunk) < FOLD_CHUNK:
            return
        version = chunk[-1].version


def _checkpoint(
    product_id: str, version: int, rows: int, at: datetime, state: State
) -> ProductStateCheckpoint:
    return ProductStateCheckpoint(
        product_id=product_id, version=version, rows=rows, occurred_at=at, state=encode(state)
    )


def _encoded(value: Any) -> Any:
    for tag, (kind, _) in _TAGS.items():
        if isinstance(value, kind):
            return {tag: value.isoformat() if isinstance(value, datetime) else str(value)}
    return value


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        [(tag, text)] = value.items()
        if tag in _TAGS:
            return _TAGS[tag][1](text)
    return value
