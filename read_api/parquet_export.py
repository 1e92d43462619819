"""Export chunks written as Parquet: one row group per chunk, a fixed typed schema.

`data` is JSON text (its shape differs per event type), so DuckDB (`json_extract`) and
pandas (`json.loads`) read every file the same way whatever events it holds.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from read_api.event_export import Row

SCHEMA = pa.schema(
    [
        pa.field("position", pa.int64(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("aggregate_type", pa.string(), nullable=False),
        pa.field("aggregate_id", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("occurred_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("actor_id", pa.string()),
        pa.field("actor_role", pa.string()),
        pa.field("request_id", pa.string()),
        pa.field("data", pa.string(), nullable=False),
    ]
)


class ParquetChunks:
    """Appends chunks of export rows to one Parquet file; `close()` writes its footer."""

    def __init__(self, out: BinaryIO) -> None:
        self.writer = pq.ParquetWriter(out, SCHEMA, compression="zstd")

    def write(self, rows: list[Row]) -> None:
        self.writer.write_table(pa.Table.from_pydict(_columns(rows), schema=SCHEMA))

    def close(self) -> None:
        self.writer.close()


def _columns(rows: list[Row]) -> dict[str, list[Any]]:
    return {
        "position": [r["position"] for r in rows],
        "event_id": [str(r["event_id"]) for r in rows],
        "aggregate_type": [r["aggregate_type"] for r in rows],
        "aggregate_id": [str(r["aggregate_id"]) for r in rows],
        "version": [r["version"] for r in rows],
        "type": [r["type"] for r in rows],
        "occurred_at": [r["occurred_at"] for r in rows],
        "actor_id": [r["actor_id"] or None for r in rows],
        "actor_role": [r["actor_role"] or None for r in rows],
        "request_id": [r["request_id"] or None for r in rows],
        "data": [json.dumps(r["data"], separators=(",", ":")) for r in rows],
    }
