"""Exports to a file (the operator's command): NDJSON, CSV or Parquet, resumable.

A cut NDJSON or CSV export resumes in place: `resume_position` finds the last complete
line, drops a half-written one, and the export appends from the position that line holds.
A Parquet file cannot be appended to: start a new file with `after` = the last position
the cut run printed.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from read_api.event_export import RENDERERS, EventFilters, event_chunks, with_personal_data
from read_api.parquet_export import ParquetChunks

FORMATS = ("ndjson", "csv", "parquet")
TAIL_BYTES = 1 << 20  # far above one exported event (data is bounded by the write side)


@dataclass
class Written:
    rows: int
    last: int  # the position of the last event in the file: pass as `after` to continue


def export_to_file(
    format_: str,
    path: Path,
    filters: EventFilters,
    *,
    after: int,
    key: bytes | None,
    progress: Callable[[int], None],
    append: bool = False,
) -> Written:
    written = Written(0, after)
    if format_ == "parquet":
        with path.open("wb") as out:
            parquet = ParquetChunks(out)
            try:
                for chunk in event_chunks(filters, after=after):
                    parquet.write(with_personal_data(chunk, key))
                    _advance(written, chunk[-1]["position"], len(chunk), progress)
            finally:
                parquet.close()
        return written
    header, render = RENDERERS[format_]
    with path.open("ab" if append else "wb") as out:
        if out.tell() == 0:
            out.write(header)
        for chunk in event_chunks(filters, after=after):
            out.write(render(with_personal_data(chunk, key)))
            _advance(written, chunk[-1]["position"], len(chunk), progress)
    return written


def resume_position(format_: str, path: Path) -> int:
    """The position of the last complete event in a cut NDJSON or CSV export (0 if none);
    a half-written last line is cut off so appending continues a well-formed file."""
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        start = max(0, size - TAIL_BYTES)
        f.seek(start)
        tail = f.read()
        end = tail.rfind(b"\n") + 1
        f.truncate(start + end)
    lines = tail[:end].splitlines()
    if not lines:
        return 0
    last = lines[-1].decode()
    if format_ == "ndjson":
        return int(json.loads(last)["position"])
    field = next(csv.reader(io.StringIO(last)))[0]
    return int(field) if field.isdigit() else 0


def _advance(written: Written, last: int, rows: int, progress: Callable[[int], None]) -> None:
    written.rows += rows
    written.last = last
    progress(written.rows)
