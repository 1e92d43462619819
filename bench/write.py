"""Write-path benchmark (issue 10): CPU, SQL and latency per command, flash sale, growth, appends.

    .venv/bin/python bench/write.py                      # this checkout, 15-25 minutes
    .venv/bin/python bench/write.py --old /tmp/old       # that checkout, then this one
    .venv/bin/python bench/write.py --only cart,checkout --rounds 2

It starts each checkout's own stack (`python -m infra.stack up` with that checkout's .venv, on
`--ports`, in a fresh directory, rate limits lifted), runs the scenarios, stops it, and with
`--old` does the same for the other checkout (`--repeat 2`: old, new, old, new), then prints
one markdown table with both and their ratio. Scenarios (`--only`, default all
but `inprocess`):

  cart       add-to-cart at concurrency `--concurrency` (8): each of `--customers` (200)
             customers adds `--lines` (4) new products to an empty cart; `--rounds` rounds
  checkout   then each of them checks out that cart (Idempotency-Key sent)
  flash      `--customers` buyers hold the last `--flash-units` (10) units in their carts and
             check out at once: latency of every answer, and exactly that many orders (ASSERT)
  oldcarts   add-to-cart into carts of 9-22 lines with weeks of browsing behind them, vs
             empty carts
  sql        bench/sql_per_request.py (exact statements of the write API per request), if found
  appends    product creates through the application, 8 threads in-process, vs a pgbench
             single-row INSERT of the same size into a copy of the event table, alternating
  growth     one customer buys one product; after N = `--growth` earlier purchases (seeded
             in-process through the application), `--growth-samples` purchases over HTTP
  inprocess  bench/growth_inprocess.py (the in-process growth test), if found; not run
             unless named (before snapshots it replays for 5-10 minutes)

Per window it reports req/s, p50/p99 latency, and per request: server CPU of the write API +
PostgreSQL + Redis, CPU of the whole stack (incl. relay, broker, projectors, read API,
OpenSearch, Celery) counted until the stack is idle again minus what it uses idle, SQL
statements (pg_stat_statements, all processes) and transactions, and this client's own CPU.
The relay is paused (SIGSTOP) during `appends` and `growth`, which run last, so the events
they write do not load the machine while they are timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import write_history as history
import write_phases as phases
from write_report import print_summary
from write_stack import Stack, git_commit

HERE = Path(__file__).resolve().parent
MODES = ("cart", "checkout", "flash", "oldcarts", "sql", "appends", "growth", "inprocess")
DEFAULT_MODES = MODES[:-1]  # the in-process growth test replays for minutes before a fix


def checkout_dir(value: str) -> Path:
    root = Path(value).resolve()
    if not (root / "infra" / "stack").is_dir() or not (root / ".venv" / "bin" / "python").exists():
        raise argparse.ArgumentTypeError(f"{root}: not a shopstream checkout with a .venv")
    return root


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/write.py",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").split("\n")[5:]),
    )
    add = parser.add_argument
    add("--new", type=checkout_dir, default=HERE.parent, help="checkout measured (this one)")
    add("--old", type=checkout_dir, help="a checkout to compare with, measured first")
    add("--repeat", type=int, default=1, help="alternations old,new (1)")
    add("--only", default=",".join(DEFAULT_MODES), help=f"scenarios, of {','.join(MODES)}")
    add("--ports", type=int, default=8100, help="write API port; the read API gets +1 (8100)")
    add("--customers", type=int, default=200, help="customers signed up, flash buyers (200)")
    add("--concurrency", type=int, default=8, help="connections of the load windows (8)")
    add("--rounds", type=int, default=3, help="repetitions of each window (3)")
    add("--lines", type=int, default=4, help="products each customer adds per round (4)")
    add("--flash-units", type=int, default=10, help="units on sale in the flash sale (10)")
    add("--flash-rounds", type=int, default=2, help="flash sales per stack (2)")
    add("--old-cart-lines", default="9-22", help="lines of an old cart while measured (9-22)")
    add("--append-rounds", type=int, default=2, help="alternations app/pgbench (2)")
    add("--append-seconds", type=float, default=10, help="seconds per append run (10)")
    add("--append-threads", type=int, default=8, help="in-process threads and pgbench clients")
    add("--growth", default="100,1000,10000", help="earlier purchases N (100,1000,10000)")
    add("--growth-samples", type=int, default=10, help="purchases timed per N (10)")
    add("--growth-budget", type=float, default=60, help="seconds of timing per N, >= 2 (60)")
    add("--idle-seconds", type=float, default=10, help="seconds the idle stack is watched (10)")
    add("--sql-script", type=Path, default=HERE / "sql_per_request.py", help="sql hook script")
    add("--sql-requests", type=int, default=30, help="requests per kind of the sql hook (30)")
    add("--inprocess-script", type=Path, default=HERE / "growth_inprocess.py")
    add("--inprocess-args", default="--store memory --checkpoints 100,1000 --samples 10")
    add("--keep", action="store_true", help="keep each stack's directory (logs, data)")
    args = parser.parse_args(argv)
    args.modes = {m.strip() for m in args.only.split(",") if m.strip()}
    if unknown := args.modes - set(MODES):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    low, _, high = args.old_cart_lines.partition("-")
    args.old_low, args.old_high = int(low), int(high or low)
    if not 1 <= args.old_low <= args.old_high - args.lines:
        parser.error("--old-cart-lines must span more than --lines")
    args.growth_points = sorted({int(n) for n in args.growth.split(",") if n.strip()})
    if min(args.customers, args.concurrency, args.rounds, args.repeat, args.lines) < 1:
        parser.error("counts must be >= 1")
    return args


def measure(root: Path, args: argparse.Namespace) -> dict:
    """Start the checkout's stack, run the selected scenarios, stop it."""
    stack = Stack(root, args.ports, args.ports + 1)
    label = f"{root.name}@{git_commit(root)}"
    print(f"\n== {label}: starting its stack on {stack.write_url} ({stack.workdir})", flush=True)
    started, load = time.monotonic(), os.getloadavg()
    try:
        stack.start()
        shop = phases.open_shop(stack, args.customers, args.concurrency, args.idle_seconds)
        run_scenarios(shop, args)
        results = shop.results | {"idle": shop.idle}
    finally:
        stack.stop(keep=args.keep)
    results.update(label=label, minutes=(time.monotonic() - started) / 60)
    results["load"] = (load[0], os.getloadavg()[0])
    print(
        f"== {label}: done in {results['minutes']:.1f} min, load average "
        f"{results['load'][0]:.2f} -> {results['load'][1]:.2f}",
        flush=True,
    )
    return results


def run_scenarios(shop: phases.Shop, args: argparse.Namespace) -> None:
    modes = args.modes
    if modes & {"cart", "checkout"}:
        phases.cart_and_checkout(shop, args.rounds, args.lines, modes)
    if "flash" in modes:
        phases.flash_sale(shop, args.flash_rounds, args.flash_units)
    if "oldcarts" in modes:
        phases.old_carts(shop, args.rounds, args.lines, args.old_low, args.old_high)
    if "sql" in modes:
        if args.sql_script.exists():
            history.sql_hook(shop, args.sql_script, args.sql_requests)
        else:
            print(f"  sql: {args.sql_script} not found; skipped")
    if "appends" in modes:
        history.appends(shop, args.append_rounds, args.append_seconds, args.append_threads)
    if "growth" in modes:
        history.growth(shop, args.growth_points, args.growth_samples, args.growth_budget)
    if "inprocess" in modes:
        if args.inprocess_script.exists():
            options = shlex.split(args.inprocess_args)
            history.growth_inprocess_hook(shop, args.inprocess_script, options)
        else:
            print(f"  inprocess: {args.inprocess_script} not found; skipped")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    order = [args.old, args.new] * args.repeat if args.old else [args.new] * args.repeat
    started = datetime.now(UTC)
    print(
        f"bench/write.py  {started:%Y-%m-%d %H:%M} UTC  {platform.node()} "
        f"({os.cpu_count()} CPU)  load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    runs = [measure(root, args) for root in order]
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    print(
        f"\ncommand: {command}\nstarted {started:%Y-%m-%d %H:%M} UTC, "
        f"finished {datetime.now(UTC):%H:%M} UTC"
    )
    return print_summary(runs, args)


if __name__ == "__main__":
    sys.exit(main())
