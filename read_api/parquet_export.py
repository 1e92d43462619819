"""Export chunks written as Parquet: row groups of ROW_GROUP_ROWS, a fixed typed schema.

The writer keeps each row group's metadata in memory until it writes the footer, so the
row-group count is what grows with the export's size: measured, ~11 MiB more for 1M
events in 2,000-row groups. Chunks are therefore gathered (as Arrow tables, compact) into
row groups of 50,000 rows: 20 a million events, and the size DuckDB and pandas read well.

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


ROW_GROUP_ROWS = 50_000


class ParquetChunks:
    """Appends chunks of export rows to one Parquet file; `close()` writes its footer."""

    def __init__(self, out: BinaryIO, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.row_group_rows = row_group_rows
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        # No min/max statistics of `data` (two long JSON texts a row group, useless for
        # filtering): the footer, held in memory until close, stays small.
        stats = [name for name in SCHEMA.names if name != "data"]
        self.writer = pq.ParquetWriter(out, SCHEMA, compression="zstd", write_statistics=stats)

    def write(self, rows: list[Row]) -> None:
        self.pending.append(pa.Table.from_pydict(_columns(rows), schema=SCHEMA))
        self.pending_rows += len(rows)
        if self.pending_rows >= self.row_group_rows:
            self._flush()

    def close(self) -> None:
        self._flush()
        self.writer.close()

    def _flush(self) -> None:
        if self.pending:
            table = pa.concat_tables(self.pending)
            self.writer.write_table(table, row_group_size=len(table))
        self.pending, self.pending_rows = [], 0


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
