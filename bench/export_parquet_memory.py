"""Peak RSS of the Parquet writer alone (no database): N synthetic events in 2,000-row chunks.

    .venv/bin/python bench/export_parquet_memory.py 100000
    .venv/bin/python bench/export_parquet_memory.py 1000000

Separates the writer's memory from the database client's in bench/export.py's figures.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.test")
import django

django.setup()

from read_api.parquet_export import ParquetChunks  # noqa: E402

CHUNK = 2_000
AT = datetime(2026, 1, 1, tzinfo=UTC)


def chunk(start: int) -> list[dict[str, Any]]:
    return [
        {
            "position": i,
            "event_id": uuid.uuid4(),
            "aggregate_type": "Order",
            "aggregate_id": uuid.uuid4(),
            "version": 1,
            "type": "OrderPlaced",
            "occurred_at": AT,
            "actor_id": uuid.uuid4().hex,
            "actor_role": "customer",
            "request_id": f"req-{i}",
            "data": {"order_id": str(uuid.uuid4()), "total": "42.50", "city": f"C{i}"},
        }
        for i in range(start, start + CHUNK)
    ]


def main() -> None:
    events = int(sys.argv[1])
    with tempfile.TemporaryFile() as out:
        writer = ParquetChunks(out)
        for start in range(0, events, CHUNK):
            writer.write(chunk(start))
        writer.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{events} events: peak RSS {peak} MiB")


if __name__ == "__main__":
    main()
