"""Event export throughput and peak memory at 100k and 1M events, per format (issue 13),
with the audit-hole check (projections.audit.horizon) doing its real work over a full store.

Makes a scratch database on the stack's PostgreSQL with the schema a deployment gets
(`bench/export_scratch.py prepare`: migrations, then the event store's table created by the
eventsourcing recorder), seeds N synthetic audit events (a realistic mix: orders with
addresses, payments, escalation messages, reprices) and one stored event at each of their
positions (notification ids), each by one INSERT ... SELECT generate_series, then runs
`manage.py export_events` in a child process per format and size and reads its peak RSS from
wait4's rusage. Sizes are the last N events of one seeded table (`--after`), so every run
reads the same rows and indexes. Then `--ablation-rounds` alternating exports of
`--ablation-size` events per format, with the check and without it (the child switches it
off: `export_scratch.py unchecked`), give the check's cost as a ratio in the same run; one
EXPLAIN ANALYZE shows the check's plan over a chunk; and a probe deletes one audit row and
asserts that the export stops just before it.

    .venv/bin/python -m infra.stack run -- .venv/bin/python bench/export.py [--max 1000000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("ndjson", "csv", "parquet")
CHUNK = 2_000  # read_api.event_export.CHUNK_SIZE: the positions one hole check covers

AUDIT = """
INSERT INTO projections_auditevent (event_id, position, aggregate_type, aggregate_id, version,
    type, schema, actor_id, actor_role, request_id, correlation_id, occurred_at, data)
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
# One stored event at each audit position, in notification-id order as the store writes
# them; `state` is --state-bytes of filler (the store's rows are that wide on the heap).
STORE = """
INSERT INTO shopstream_events (originator_id, originator_version, topic, state, notification_id)
SELECT gen_random_uuid(), 1 + g %% 7, t.topic,
       substring(convert_to(repeat(md5(g::text), 1 + %(state)s / 32), 'UTF8') FROM 1 FOR %(state)s),
       g
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (SELECT * FROM (VALUES
  (0, 'shopstream.order.Placed'), (1, 'shopstream.order.Paid'),
  (2, 'shopstream.escalation.MessagePosted'), (3, 'shopstream.product.Repriced')
) AS v(k, topic) WHERE k = g %% 4) AS t
"""
TABLES = ("projections_auditevent", "shopstream_events")


def scratch_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


def scratch(url: str, *args: str) -> str:
    """bench/export_scratch.py ARGS against the scratch database; its output."""
    env = {**os.environ, "DATABASE_URL": url, "CI": "1"}
    script = str(ROOT / "bench" / "export_scratch.py")
    done = subprocess.run(
        [sys.executable, script, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def seed(url: str, n: int, state_bytes: int) -> None:
    started = time.monotonic()
    scratch(url, "prepare")
    print(f"schema (migrations + event store table) in {time.monotonic() - started:.1f} s")
    with psycopg.connect(url, autocommit=True) as db:
        for table, insert, params in (
            (TABLES[0], AUDIT, {"n": n}),
            (TABLES[1], STORE, {"n": n, "state": state_bytes}),
        ):
            started = time.monotonic()
            db.execute(insert, params)  # type: ignore[arg-type]
            db.execute(f"VACUUM ANALYZE {table}")  # type: ignore[arg-type]
            print(f"seeded {n} rows of {table} in {time.monotonic() - started:.1f} s")
        (count,) = db.execute(
            "SELECT count(*) FROM shopstream_events s JOIN projections_auditevent a"
            " ON a.position = s.notification_id"
        ).fetchone() or (0,)
        assert count == n, f"{count} stored events have an audit row, expected {n}"


def export(
    url: str, format_: str, after: int, out: Path, *, check: bool = True
) -> tuple[float, int, str, str]:
    """Wall seconds, peak RSS in MiB, the rate the command's progress line gives (from the
    start of the export, after Django's start-up) and its last output line."""
    env = {**os.environ, "DATABASE_URL": url, "CI": "1"}
    command = ["manage.py"] if check else ["bench/export_scratch.py", "unchecked"]
    args = [sys.executable, *command, "export_events", "--format", format_]
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


def exported(line: str) -> int:
    match = re.match(r"wrote (\d+) events", line)
    assert match, line
    return int(match.group(1))


def sizes_table(url: str, args: argparse.Namespace, out: Path) -> None:
    print("| format | events | wall s | export events/s | peak RSS MiB | file MiB |")
    print("|---|---|---|---|---|---|")
    seconds, rss, _, _ = export(url, "parquet", args.max, out)
    print(f"| (startup, 0 events) | 0 | {seconds:.1f} | - | {rss} | - |")
    for size in (int(s) for s in args.sizes.split(",")):
        for format_ in args.formats.split(","):
            seconds, rss, rate, line = export(url, format_, args.max - size, out)
            assert exported(line) == size, line
            mib = out.stat().st_size / 2**20
            print(
                f"| {format_} | {size:,} | {seconds:.1f} | {int(rate):,} | {rss} | {mib:.0f} |",
                flush=True,
            )


def ablation(url: str, args: argparse.Namespace, out: Path) -> float:
    """Exports with and without the hole check, alternating, `--ablation-rounds` times each."""
    size = args.ablation_size
    print(f"\nhole check on/off, {size:,} events, {args.ablation_rounds} rounds each (events/s)")
    print("| format | with check | without | with / without | every round: with, without |")
    print("|---|---|---|---|---|")
    checked: list[int] = []
    for format_ in args.formats.split(","):
        rates: dict[bool, list[int]] = {True: [], False: []}
        for round_ in range(args.ablation_rounds):
            for check in (True, False) if round_ % 2 == 0 else (False, True):
                _, _, rate, line = export(url, format_, args.max - size, out, check=check)
                assert exported(line) == size, line
                rates[check].append(int(rate))
        checked += rates[True]
        with_, without = statistics.median(rates[True]), statistics.median(rates[False])
        rounds = "; ".join(f"{a:,}, {b:,}" for a, b in zip(rates[True], rates[False], strict=True))
        print(
            f"| {format_} | {with_:,.0f} | {without:,.0f} | {with_ / without:.3f} | {rounds} |",
            flush=True,
        )
    return statistics.median(checked)


def check_alone(url: str, args: argparse.Namespace, export_rate: float) -> None:
    """The hole check's queries alone over the same positions, against the export's time."""
    size, rounds = args.ablation_size, max(args.ablation_rounds, 3)
    after = args.max - size
    timed = scratch(url, "checks", str(after), str(args.max), str(rounds)).split()
    seconds = statistics.median(float(s) for s in timed)
    export_seconds = size / export_rate
    print(
        f"\nhole check alone over the same {size:,} positions ({size // CHUNK} queries, as the "
        f"export runs them), {rounds} rounds: median {seconds:.3f} s "
        f"({1000 * seconds / (size / CHUNK):.2f} ms a chunk; rounds {', '.join(timed)}), "
        f"{100 * seconds / export_seconds:.1f}% of a {size:,}-event export at {export_rate:,.0f}"
        " events/s (the median checked rate above, all formats)",
        flush=True,
    )


def probe_hole(url: str, args: argparse.Namespace, out: Path) -> None:
    """One audit row deleted: the export must stop just before it (so the check ran)."""
    size = args.ablation_size
    after, hole = args.max - size, args.max - size // 2
    print(f"\nEXPLAIN ANALYZE of the hole check over one chunk, ({after}, {after + CHUNK}]:")
    print(scratch(url, "explain", str(after), str(after + CHUNK)))
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DELETE FROM projections_auditevent WHERE position = %s", (hole,))
    _, _, _, line = export(url, "ndjson", after, out)
    assert exported(line) == hole - after - 1, line
    print(f"probe: audit row {hole} deleted; the export after {after} stopped before it: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max", type=int, default=1_000_000, help="events seeded")
    parser.add_argument("--sizes", default="100000,1000000", help="export sizes")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--state-bytes", type=int, default=300, help="stored event state size")
    parser.add_argument("--ablation-size", type=int, default=100_000)
    parser.add_argument("--ablation-rounds", type=int, default=5, help="0: no on/off runs")
    args = parser.parse_args()
    server = os.environ["DATABASE_URL"]
    name = f"bench_export_{os.getpid()}"
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with psycopg.connect(scratch_url(server, "postgres"), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = scratch_url(server, name)
    try:
        seed(url, args.max, args.state_bytes)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "export"
            sizes_table(url, args, out)
            if args.ablation_rounds:
                check_alone(url, args, ablation(url, args, out))
            probe_hole(url, args, out)
    finally:
        with psycopg.connect(scratch_url(server, "postgres"), autocommit=True) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
