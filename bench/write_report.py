"""The tables bench/write.py prints at the end: one column per stack run, and new/old."""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable
from typing import Any

from write_stack import WRITE_SIDE

Row = tuple[str, Callable[[dict], float], str]


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def windows(kind: str, metric: Callable[[Any], float]) -> Callable[[dict], float]:
    return lambda run: median([metric(w) for w in run.get(kind, [])])


def window_rows(kind: str, title: str) -> list[Row]:
    return [
        (f"{title}: throughput, req/s", windows(kind, lambda w: w.rps), "{:.1f}"),
        (f"{title}: latency p50, ms", windows(kind, lambda w: w.p50), "{:.1f}"),
        (f"{title}: latency p99, ms", windows(kind, lambda w: w.p99), "{:.1f}"),
        (
            f"{title}: CPU/request, write API + PostgreSQL + Redis, ms",
            windows(kind, lambda w: w.cpu_ms(WRITE_SIDE)),
            "{:.2f}",
        ),
        (f"{title}: CPU/request, whole stack, ms", windows(kind, lambda w: w.cpu_ms()), "{:.2f}"),
        (
            f"{title}: CPU/request, whole stack incl. its idle use, ms",
            windows(kind, lambda w: w.cpu_ms() + w.idle_share / w.n * 1000 if w.n else math.nan),
            "{:.2f}",
        ),
        (
            f"{title}: SQL statements/request (all processes)",
            windows(kind, lambda w: w.per_request(w.statements)),
            "{:.1f}",
        ),
        (
            f"{title}: transactions/request (all processes)",
            windows(kind, lambda w: w.per_request(w.transactions)),
            "{:.1f}",
        ),
        (
            f"{title}: benchmark client CPU/request, ms",
            windows(kind, lambda w: w.client_cpu / w.n * 1000 if w.n else math.nan),
            "{:.2f}",
        ),
    ]


def nested(key: str, *path: Any) -> Callable[[dict], float]:
    def get(run: dict) -> float:
        value: Any = run.get(key)
        for step in path:
            if value is None:
                return math.nan
            value = step(value) if callable(step) else value.get(step)
        return math.nan if value is None else float(value)

    return get


def old_cart_rows() -> list[Row]:
    def of(label: str, metric: Callable[[Any], float]) -> Callable[[dict], float]:
        return lambda run: median([metric(w) for w in run.get("oldcarts", {}).get(label, [])])

    def ratio(metric: Callable[[Any], float]) -> Callable[[dict], float]:
        return lambda run: of("old", metric)(run) / of("fresh", metric)(run)

    rps, cpu = (lambda w: w.rps), (lambda w: w.cpu_ms(WRITE_SIDE))
    return [
        ("add-to-cart, empty carts: req/s", of("fresh", rps), "{:.1f}"),
        ("add-to-cart, old carts (9-22 lines): req/s", of("old", rps), "{:.1f}"),
        ("old / empty carts: throughput", ratio(rps), "{:.2f}"),
        ("add-to-cart, empty carts: CPU/request write side, ms", of("fresh", cpu), "{:.2f}"),
        ("add-to-cart, old carts: CPU/request write side, ms", of("old", cpu), "{:.2f}"),
        ("old / empty carts: CPU/request write side", ratio(cpu), "{:.2f}"),
    ]


def flash_rows(units: int) -> list[Row]:
    def flash(key: str) -> Callable[[dict], float]:
        return lambda run: median([f[key] for f in run.get("flash", [])])

    return [
        ("flash sale: p50 of all answers, ms", flash("p50"), "{:.0f}"),
        ("flash sale: p99 of all answers, ms", flash("p99"), "{:.0f}"),
        ("flash sale: slowest answer, ms", flash("max"), "{:.0f}"),
        (
            f"flash sale: sales with exactly {units} orders",
            lambda run: sum(f["ok"] for f in run["flash"]) if run.get("flash") else math.nan,
            "{:.0f}",
        ),
        ("flash sale: CPU/answer, whole stack, ms", flash("cpu_stack_ms"), "{:.1f}"),
    ]


def append_rows() -> list[Row]:
    def runs(key: str) -> Callable[[dict], float]:
        return lambda run: median([r[key] for r in run.get("appends", {}).get("runs", [])])

    return [
        ("appends: application, events/s (in-process)", runs("app"), "{:.0f}"),
        ("appends: pgbench single-row INSERT, rows/s", runs("pgbench"), "{:.0f}"),
        ("appends: application / pgbench", runs("ratio"), "{:.3f}"),
    ]


def growth_rows(points: list[int]) -> list[Row]:
    rows: list[Row] = []
    for n in points:
        for command in ("add-to-cart", "checkout", "pay"):
            rows.append(
                (
                    f"growth N={n:,}: {command} median, ms",
                    nested("growth", "rows", n, command),
                    "{:.1f}",
                )
            )
    if len(points) > 1:
        first, last = points[0], points[-1]
        for command in ("add-to-cart", "checkout"):
            ratio = lambda run, c=command: (  # noqa: E731
                nested("growth", "rows", last, c)(run) / nested("growth", "rows", first, c)(run)
            )
            rows.append((f"growth: {command} N={last:,} / N={first:,}", ratio, "{:.2f}"))
    return rows


def breakdown(run: dict) -> list[str]:
    """CPU ms/request of every role, for the c=8 windows (medians over the rounds)."""
    kinds = [k for k in ("add-to-cart", "checkout") if run.get(k)]
    roles = sorted({r for k in kinds for w in run[k] for r in w.cpu}, key=str)
    if not kinds:
        return []
    lines = [f"| role | {' | '.join(kinds)} |", "| --- |" + " --- |" * len(kinds)]
    for role in roles:
        cells = [median([w.cpu_ms((role,)) for w in run[k]]) for k in kinds]
        lines.append(f"| {role} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    idle = run["idle"].cores
    lines.append(
        f"\nidle stack {run['idle'].total:.3f} cores: "
        + ", ".join(f"{k} {v:.3f}" for k, v in sorted(idle.items(), key=lambda x: -x[1]))
    )
    return lines


def print_summary(runs: list[dict], args: argparse.Namespace) -> int:
    rows: list[Row] = [("idle stack, cores", lambda run: run["idle"].total, "{:.3f}")]
    rows += window_rows("add-to-cart", f"add-to-cart c={args.concurrency}")
    rows += window_rows("checkout", f"checkout c={args.concurrency}")
    rows += flash_rows(args.flash_units) + old_cart_rows() + append_rows()
    rows += growth_rows(args.growth_points)
    labels = [run["label"] for run in runs]
    distinct = list(dict.fromkeys(labels))
    compare = len(distinct) == 2
    head = [f"{label} (run {i + 1})" for i, label in enumerate(labels)]
    print("\n| measure | " + " | ".join(head) + (" | new / old |" if compare else " |"))
    print("| --- |" + " --- |" * (len(head) + compare))
    for title, metric, fmt in rows:
        values = [metric(run) for run in runs]
        if all(math.isnan(v) for v in values):
            continue
        cells = [fmt.format(v) if not math.isnan(v) else "-" for v in values]
        if compare:
            by = {
                d: median([v for v, lab in zip(values, labels, strict=True) if lab == d])
                for d in distinct
            }
            ratio = by[distinct[1]] / by[distinct[0]] if by[distinct[0]] else math.nan
            cells.append(f"{ratio:.2f}" if not math.isnan(ratio) else "-")
        print(f"| {title} | " + " | ".join(cells) + " |")
    print(
        "\nmachine load (1-min average) before -> after each stack run: "
        + "; ".join(
            f"{run['label']} {run['load'][0]:.2f} -> {run['load'][1]:.2f}"
            f" ({run['minutes']:.1f} min)"
            for run in runs
        )
    )
    for run in runs:
        print(f"\nCPU per request by role, {run['label']} (ms; beyond idle, until idle again):\n")
        print("\n".join(breakdown(run)))
        for number, sale in enumerate(run.get("flash", []), 1):
            print(
                f"\nflash sale {number}, {run['label']}: {sale['buyers']} buyers, "
                f"{sale['orders']} orders, {sale['out_of_stock']} out_of_stock, "
                f"other answers: {sale['other']}"
            )
        if sql := run.get("sql_per_request"):
            print(f"\nwrite API statements per request (bench/sql_per_request.py), {run['label']}:")
            print(
                "| request | n | SQL statements | Django | event store | of them BEGIN/COMMIT/"
                "SAVEPOINT | Redis commands |\n| --- | --- | --- | --- | --- | --- | --- |"
            )
            print("\n".join(sql["markdown"]))
        if growth := run.get("growth_inprocess"):
            print(f"\nin-process growth (bench/growth_inprocess.py), {run['label']}:")
            print(growth["output"])
    flash_ok = all(f["ok"] for run in runs for f in run.get("flash", []))
    failed = sum(
        w.failed for run in runs for k in ("add-to-cart", "checkout") for w in run.get(k, [])
    )
    if not flash_ok or failed:
        print(
            f"\nFAILED: flash-sale assertion {'OK' if flash_ok else 'FAILED'}, "
            f"{failed} failed requests in the c={args.concurrency} windows"
        )
        return 1
    return 0
