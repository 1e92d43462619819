"""The scenarios of bench/write.py that write through the application in-process: appends
against pgbench, the growth test (seeded in-process, timed over HTTP), and the hooks that run
other helpers' scripts with the measured checkout's code."""

from __future__ import annotations

import json
import math
import re
import statistics
import subprocess
import time
from pathlib import Path

from psycopg.sql import SQL, Identifier, Literal
from write_load import (
    Account,
    Connection,
    add_to_cart,
    check_out,
    pay,
    refresh,
    sign_up,
)
from write_phases import Shop
from write_stack import Stack


# -- 4. in-process appends vs pgbench ---------------------------------------------------
def appends(shop: Shop, rounds: int, seconds: float, threads: int) -> None:
    """Product creates through the application (in-process, `threads` threads) against
    pgbench single-row INSERTs of the same size into a copy of the events table."""
    stack = shop.stack
    table = stack.events_table()
    paused = stack.pause_relay()
    head = stack.events_head(table)
    stack.inprocess("appends", "--threads", str(threads), "--seconds", "2")  # warm-up, sizes
    topic, state = stack.commonest_event(table, head)
    stack.sql("DROP TABLE IF EXISTS bench_write_appends")
    stack.sql(
        "CREATE TABLE bench_write_appends (originator_id uuid NOT NULL, originator_version"
        " bigint NOT NULL, topic text, state bytea, notification_id bigserial UNIQUE,"
        " PRIMARY KEY (originator_id, originator_version))"
    )
    script = Path(stack.workdir, "append.sql")
    insert = SQL(
        "INSERT INTO bench_write_appends (originator_id, originator_version, topic, state)"
        " VALUES (gen_random_uuid(), 1, {}, {});\n"
    ).format(Literal(topic), Literal(b"\xab" * state))
    script.write_text(stack.render(insert))
    print(f"  appends: one event of {state} bytes ({topic}); relay paused: {paused}", flush=True)
    runs = []
    for number in range(rounds):
        steps = [("app", run_app), ("pgbench", run_pgbench)]
        row: dict[str, float] = {}
        for name, step in steps if number % 2 == 0 else steps[::-1]:
            row[name] = step(stack, table, script, seconds, threads)
        row["ratio"] = row["app"] / row["pgbench"]
        print(
            f"  round {number + 1}: application {row['app']:.0f} events/s, pgbench "
            f"{row['pgbench']:.0f} rows/s, ratio {row['ratio']:.3f}",
            flush=True,
        )
        runs.append(row)
    stack.sql("DROP TABLE IF EXISTS bench_write_appends")
    shop.results["appends"] = {"runs": runs, "bytes": state, "topic": topic, "threads": threads}


def run_app(stack: Stack, table: Identifier, _: Path, seconds: float, threads: int) -> float:
    head = stack.events_head(table)
    answer = stack.inprocess("appends", "--threads", str(threads), "--seconds", str(seconds))
    if answer.get("error"):
        raise RuntimeError(f"in-process appends failed: {answer['error']}")
    return stack.events_after(table, head) / answer["seconds"]


def run_pgbench(stack: Stack, _: Identifier, script: Path, seconds: float, threads: int) -> float:
    url = stack.env["DATABASE_URL"]
    command = [
        str(stack.pg_bin() / "pgbench"),
        "-n",
        "-M",
        "prepared",
        "-c",
        str(threads),
        "-j",
        "2",
        "-T",
        str(int(seconds)),
        "-f",
        str(script),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    match = re.search(r"tps = ([0-9.]+)", out.stdout)
    if not match:
        raise RuntimeError(f"pgbench failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    return float(match.group(1))


# -- 3. one customer buying one product N times ------------------------------------------
def growth(shop: Shop, checkpoints: list[int], samples: int, budget: float) -> None:
    """Seed N earlier purchases in-process, then time up to `samples` purchases over HTTP
    (fewer once `budget` seconds are spent at that N, but at least two)."""
    stack = shop.stack
    stack.pause_relay()  # the seeded events would otherwise keep the pipeline busy for minutes
    conn = Connection(stack.write_url)
    customer = sign_up(conn, "customer")
    product = shop.products(1, "growth", stock=1_000_000)[0]
    done, rows = 0, {}
    for n in sorted(checkpoints):
        if n > done:
            answer = stack.inprocess(
                "seed-growth",
                "--customer",
                customer.id,
                "--product",
                product,
                "--count",
                str(n - done),
            )
            print(f"  growth: seeded {n - done} purchases in {answer['seconds']:.0f} s", flush=True)
            done = n
        refresh(conn, customer)
        timings: dict[str, list[float]] = {"add-to-cart": [], "checkout": [], "pay": []}
        failures, started = [], time.monotonic()
        while len(timings["add-to-cart"]) < samples:
            if len(timings["add-to-cart"]) >= 2 and time.monotonic() - started > budget:
                break
            failures += purchase(conn, customer, product, timings)
            done += 1
        rows[n] = {k: statistics.median(v) * 1000 for k, v in timings.items() if v}
        rows[n] |= {"samples": len(timings["add-to-cart"]), "failed": len(failures)}
        print(
            f"  growth N={n:>6,}: {rows[n]['samples']} purchases, median add-to-cart "
            f"{rows[n].get('add-to-cart', math.nan):.1f} ms, checkout "
            f"{rows[n].get('checkout', math.nan):.1f} ms, pay {rows[n].get('pay', math.nan):.1f}"
            f" ms" + (f"; FAILED {failures}" if failures else ""),
            flush=True,
        )
    conn.close()
    shop.results["growth"] = {"rows": rows, "samples": samples}


def purchase(
    conn: Connection, customer: Account, product: str, timings: dict[str, list[float]]
) -> list[str]:
    """Add one unit, check out, pay, each timed; what failed (the rest is then skipped)."""
    calls = [add_to_cart(customer, product), check_out(customer)]
    for number in range(3):
        call = calls[number]
        start = time.perf_counter()
        try:
            status, body = conn.request(call.method, call.path, call.body, call.headers)
        except OSError as error:  # e.g. the worker was killed at its timeout
            status, body = 0, repr(error).encode()
        timings[call.kind].append(time.perf_counter() - start)
        if status != call.expect:
            conn.close()
            return [f"{call.kind} {status} {body[:120]!r}"]
        if call.kind == "checkout":
            calls.append(pay(customer, json.loads(body)["order_id"]))
    return []


# -- hooks: other helpers' scripts, run with the measured checkout's code -----------------
def sql_hook(shop: Shop, script: Path, requests: int) -> None:
    answer = shop.stack.inprocess("sql-per-request", str(script), "--requests", str(requests))
    for row in answer["rows"]:
        print(f"  {row}")
    shop.results["sql_per_request"] = answer


def growth_inprocess_hook(shop: Shop, script: Path, options: list[str]) -> None:
    answer = shop.stack.inprocess("growth-inprocess", str(script), *options, timeout=7200)
    print("\n".join(f"  {line}" for line in answer["output"].splitlines()), flush=True)
    shop.results["growth_inprocess"] = answer
