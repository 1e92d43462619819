"""Event export throughput and peak memory at 100k and 1M events, per format (issue 13).

Seeds N synthetic audit events (a realistic mix: orders with addresses, payments, escalation
messages, reprices) with one INSERT ... SELECT generate_series into a scratch database on the
stack's PostgreSQL, then runs `manage.py export_events` in a child process per format and
size and reads its peak RSS from wait4's rusage. Sizes are the last N events of one seeded
table (`--after`), so every run reads the same rows and indexes.

    .venv/bin/python -m infra.stack run -- .venv/bin/python bench/export.py [--max 1000000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("ndjson", "csv", "parquet")

TABLE = """
CREATE TABLE projections_auditevent (
    event_id uuid PRIMARY KEY, position bigint NOT NULL UNIQUE,
    aggregate_type varchar(50) NOT NULL, aggregate_id uuid NOT NULL, version integer NOT NULL,
    type varchar(100) NOT NULL, schema integer NOT NULL, actor_id varchar(64) NOT NULL,
    actor_role varchar(32) NOT NULL, request_id varchar(128) NOT NULL,
    correlation_id varchar(128) NOT NULL, occurred_at timestamptz NOT NULL, data jsonb NOT NULL
)"""
SEED = """
INSERT INTO projections_auditevent
SELECT gen_random_uuid(), g, t.aggregate_type, gen_random_uuid(), 1 + g %% 7, t.type, 1,
       md5(g::text), 'customer', 'req-' || g, 'req-' || g,
       timestamptz '2026-01-01' + g * interval '1 second', t.data
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (SELECT * FROM (VALUES
  (0, 'Order', 'OrderPlaced', jsonb_build_object(
      'order_id', gen_random_uuid(), 'customer_id', gen_random_uuid(), 'total', '42.50',
      'lines', jsonb_build_array(jsonb_build_object('product_id', gen_random_uuid(),
          'name', 'Vase', 'unit_price', '42.50', 'quantity', 1, 'seller_id', null)),
      'shipping_address', jsonb_build_object('name', 'Customer ' || g, 'line1', g || ' Main St',
          'line2', '', 'city', 'Springfield', 'postcode', '12345', 'country', 'US'))),
  (1, 'Order', 'OrderPaid', jsonb_build_object('charge_id', 'ch_' || g)),
  (2, 'Escalation', 'EscalationMessagePosted', jsonb_build_object(
      'order_id', gen_random_uuid(), 'message', 'Where is my parcel? It is late ' || g)),
  (3, 'Product', 'ProductRepriced', jsonb_build_object('price', '19.99'))
) AS v(k, aggregate_type, type, data) WHERE k = g %% 4) AS t
"""
INDEXES = [
    "CREATE INDEX ON projections_auditevent (aggregate_id)",
    "CREATE INDEX ON projections_auditevent (type)",
    "CREATE INDEX ON projections_auditevent (occurred_at)",
]


def scratch_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


def seed(url: str, n: int) -> float:
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(TABLE)
        db.execute(SEED, {"n": n})  # type: ignore[arg-type]
        for index in INDEXES:
            db.execute(index)  # type: ignore[arg-type]
        db.execute("VACUUM ANALYZE projections_auditevent")
    return time.monotonic() - started


def export(url: str, format_: str, after: int, out: Path) -> tuple[float, int, str, str]:
    """Wall seconds, peak RSS in MiB, the rate the command's progress line gives (from the
    start of the export, after Django's start-up) and its last output line."""
    env = {**os.environ, "DATABASE_URL": url, "CI": "1"}
    args = [sys.executable, "manage.py", "export_events", "--format", format_]
    args += ["--out", str(out), "--after", str(after)]
    started = time.monotonic()
    child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    assert os.waitstatus_to_exitcode(status) == 0, output
    lines = output.strip().splitlines()
    rate = re.findall(r"events, (\d+) events/s", output)
    return seconds, usage.ru_maxrss // 1024, rate[-1] if rate else "-", lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max", type=int, default=1_000_000, help="events seeded")
    parser.add_argument("--sizes", default="100000,1000000", help="export sizes")
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    server = os.environ["DATABASE_URL"]
    name = f"bench_export_{os.getpid()}"
    with psycopg.connect(scratch_url(server, "postgres"), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = scratch_url(server, name)
    try:
        print(f"seeded {args.max} events in {seed(url, args.max):.1f} s")
        print("| format | events | wall s | export events/s | peak RSS MiB | file MiB |")
        print("|---|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "export"
            seconds, rss, _, _ = export(url, "parquet", args.max, out)
            print(f"| (startup, 0 events) | 0 | {seconds:.1f} | - | {rss} | - |")
            for size in (int(s) for s in args.sizes.split(",")):
                for format_ in args.formats.split(","):
                    seconds, rss, rate, line = export(url, format_, args.max - size, out)
                    assert line.startswith(f"wrote {size} events"), line
                    mib = out.stat().st_size / 2**20
                    print(
                        f"| {format_} | {size:,} | {seconds:.1f} | {int(rate):,} "
                        f"| {rss} | {mib:.0f} |",
                        flush=True,
                    )
    finally:
        with psycopg.connect(scratch_url(server, "postgres"), autocommit=True) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
