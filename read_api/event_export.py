"""The event history read in chunks, in store order, and rendered as NDJSON or CSV.

Chunks are a keyset walk on `position` (`position > last ORDER BY position LIMIT n`): each
chunk is one short query, so a stream holds no cursor and no transaction between chunks,
memory stays one chunk whatever the history's size, and a walk resumes from any position.
Closing the generator (a client that went away: the WSGI server closes the response)
ends the walk at the chunk it was on; the `event_export_ended` log line says where.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from django.db.models import QuerySet

from contracts.schemas import current_data
from projections.audit.horizon import first_hole
from projections.audit.models import AuditEvent
from read_api.personal_data import pseudonymised

log = structlog.get_logger("shopstream.export")

CHUNK_SIZE = 2_000
COLUMNS = (
    "position",
    "event_id",
    "aggregate_type",
    "aggregate_id",
    "version",
    "type",
    "occurred_at",
    "actor_id",
    "actor_role",
    "request_id",
    "data",
)
Row = dict[str, Any]


@dataclass(frozen=True)
class EventFilters:
    """Which events a feed page or an export holds; None means any."""

    type: str | None = None
    aggregate_type: str | None = None
    aggregate_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.type:
            events = events.filter(type=self.type)
        if self.aggregate_type:
            events = events.filter(aggregate_type=self.aggregate_type)
        if self.aggregate_id:
            events = events.filter(aggregate_id=self.aggregate_id)
        if self.since:
            events = events.filter(occurred_at__gte=self.since)
        if self.until:
            events = events.filter(occurred_at__lte=self.until)
        return events


def event_chunks(
    filters: EventFilters, *, after: int = 0, size: int | None = None
) -> Iterator[list[Row]]:
    """The matching events after position `after`, `size` (CHUNK_SIZE) rows at a time, in
    store order, in today's schema. The walk ends before the first event the audit log does
    not hold yet (`projections.audit.horizon`): resuming after the last row then misses
    nothing."""
    size = size or CHUNK_SIZE
    matching = filters.apply(AuditEvent.objects.all()).values(*COLUMNS, "schema")
    last = after
    while True:
        chunk = complete_part(
            last, list(matching.order_by("position").filter(position__gt=last)[:size])
        )
        if not chunk.rows:
            return
        yield [current_row(row) for row in chunk.rows]
        last = chunk.rows[-1]["position"]
        if chunk.ends_early or len(chunk.rows) < size:
            return


@dataclass(frozen=True)
class CompletePart:
    rows: list[Any]
    ends_early: bool  # rows were left out after a hole in the audit log


def complete_part(after: int, rows: list[Any]) -> CompletePart:
    """`rows` (in position order, after `after`) up to the audit log's first hole."""
    if not rows:
        return CompletePart(rows, ends_early=False)
    hole = first_hole(after, _position(rows[-1]))
    if hole is None:
        return CompletePart(rows, ends_early=False)
    return CompletePart([r for r in rows if _position(r) < hole], ends_early=True)


def _position(row: Any) -> int:
    return int(row["position"] if isinstance(row, dict) else row.position)


def current_row(row: Row) -> Row:
    """The row with its data in today's schema (an older projector's row keeps its own)."""
    schema = row.pop("schema")
    return {**row, "data": current_data(row["type"], schema, row["data"])}


def with_personal_data(rows: list[Row], key: bytes | None) -> list[Row]:
    """The rows as they may be shown: full (`key` None) or with data pseudonymised."""
    if key is None:
        return rows
    return [{**row, "data": pseudonymised(row["type"], row["data"], key)} for row in rows]


def ndjson_chunk(rows: list[Row]) -> bytes:
    """One JSON object a line, shaped as the event feed's results."""
    return "".join(json.dumps(_body(row), separators=(",", ":")) + "\n" for row in rows).encode()


def csv_header() -> bytes:
    return (",".join(COLUMNS) + "\r\n").encode()


def csv_chunk(rows: list[Row]) -> bytes:
    """The COLUMNS of each row; `data` as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(
            [
                row["position"],
                row["event_id"],
                row["aggregate_type"],
                row["aggregate_id"],
                row["version"],
                row["type"],
                row["occurred_at"].isoformat(),
                row["actor_id"],
                row["actor_role"],
                row["request_id"],
                json.dumps(row["data"], separators=(",", ":")),
            ]
        )
    return out.getvalue().encode()


RENDERERS: dict[str, tuple[bytes, Callable[[list[Row]], bytes]]] = {
    "ndjson": (b"", ndjson_chunk),
    "csv": (csv_header(), csv_chunk),
}
CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def export_stream(
    format_: str, filters: EventFilters, *, after: int, key: bytes | None
) -> Iterator[bytes]:
    """The export as bytes, a chunk at a time; logs where it ended, whether or not finished."""
    header, render = RENDERERS[format_]
    last, rows, finished = after, 0, False
    try:
        if header:
            yield header
        for chunk in event_chunks(filters, after=after):
            yield render(with_personal_data(chunk, key))
            last, rows = chunk[-1]["position"], rows + len(chunk)
        finished = True
    finally:
        log.info("event_export_ended", format=format_, rows=rows, last=last, finished=finished)


def _body(row: Row) -> dict[str, Any]:
    return {
        "position": row["position"],
        "event_id": str(row["event_id"]),
        "aggregate_type": row["aggregate_type"],
        "aggregate_id": str(row["aggregate_id"]),
        "version": row["version"],
        "type": row["type"],
        "occurred_at": row["occurred_at"].isoformat(),
        "actor": {"id": row["actor_id"] or None, "role": row["actor_role"] or None},
        "request_id": row["request_id"] or None,
        "data": row["data"],
    }
