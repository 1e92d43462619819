"""The measured scenarios of bench/write.py, each against one running Stack.

Every load window is measured the same way: the stack's CPU by role and its database's
statement and transaction counters before, then after the window *and* after the stack has
gone back to idle (the relay and projectors finish the window's events after the last
answer), minus what the idle stack uses in that time. What is left is what the requests cost.
"""

from __future__ import annotations

import json
import math
import random
import re
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.sql import SQL, Identifier, Literal
from write_load import (
    Account,
    Answer,
    Call,
    Connection,
    LoadResult,
    add_to_cart,
    check_out,
    create_products,
    pay,
    percentile,
    refresh,
    remove_from_cart,
    send_all,
    sign_up,
)
from write_stack import WRITE_SIDE, Stack

DRAIN_MARGIN = 0.10  # cores above idle at which the stack counts as idle again
DRAIN_LIMIT = 90.0  # seconds to wait for that at most
MODE_OF = {"add-to-cart": "cart", "checkout": "checkout"}


@dataclass
class Idle:
    seconds: float
    cores: dict[str, float]  # CPU seconds per second, by role
    statements: float  # per second
    transactions: float

    @property
    def total(self) -> float:
        return sum(self.cores.values())


@dataclass
class Window:
    """What one load window cost: requests, latency, and CPU/SQL beyond the idle stack."""

    kind: str
    n: int
    wall: float
    p50: float
    p99: float
    cpu: dict[str, float]  # seconds beyond idle, by role
    gross: float  # seconds the whole stack used from the first request until idle again
    statements: float
    transactions: float
    client_cpu: float
    drain: float
    failed: int = 0

    @property
    def rps(self) -> float:
        return self.n / self.wall if self.wall else math.nan

    def cpu_ms(self, roles: tuple[str, ...] | None = None) -> float:
        """CPU per request in ms, of `roles` (the whole stack when None)."""
        used = sum(v for k, v in self.cpu.items() if roles is None or k in roles)
        return used / self.n * 1000 if self.n else math.nan

    def per_request(self, value: float) -> float:
        return value / self.n if self.n else math.nan


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_idle(stack: Stack, idle_cores: float) -> float:
    """Seconds until the stack's CPU rate over one second is back near idle."""
    started, previous = time.monotonic(), sum(stack.cpu().values())
    calm = 0
    while time.monotonic() - started < DRAIN_LIMIT:
        time.sleep(0.5)
        now = sum(stack.cpu().values())
        calm = calm + 1 if (now - previous) / 0.5 <= idle_cores + DRAIN_MARGIN else 0
        previous = now
        if calm >= 2:
            break
    return time.monotonic() - started


def measure_idle(stack: Stack, seconds: float) -> Idle:
    wait_idle(stack, 0.5)
    cpu0, st0, t0 = stack.cpu(), stack.statements(), time.monotonic()
    time.sleep(seconds)
    cpu1, st1, t1 = stack.cpu(), stack.statements(), time.monotonic()
    span = t1 - t0
    cores = {k: max(0.0, (cpu1.get(k, 0) - cpu0.get(k, 0)) / span) for k in cpu1}
    return Idle(
        span,
        cores,
        (st1["statements"] - st0["statements"]) / span,
        (st1["transactions"] - st0["transactions"]) / span,
    )


def measured(stack: Stack, idle: Idle, kind: str, load: Callable[[], LoadResult]) -> Window:
    cpu0, st0, client0, t0 = stack.cpu(), stack.statements(), client_cpu(), time.monotonic()
    result = load()
    client = client_cpu() - client0
    drain = wait_idle(stack, idle.total)
    cpu2, st2, t2 = stack.cpu(), stack.statements(), time.monotonic()
    span = t2 - t0
    cpu = {k: cpu2.get(k, 0) - cpu0.get(k, 0) - idle.cores.get(k, 0) * span for k in cpu2}
    if st2["dealloc"] != st0["dealloc"]:
        print("  warning: pg_stat_statements evicted entries; statement counts are low")
    answers = result.of(kind)
    seconds = [a.seconds for a in answers]
    return Window(
        kind=kind,
        n=len(answers),
        wall=result.wall,
        p50=percentile(seconds, 0.50) * 1000,
        p99=percentile(seconds, 0.99) * 1000,
        cpu=cpu,
        gross=sum(cpu2.values()) - sum(cpu0.values()),
        statements=st2["statements"] - st0["statements"] - idle.statements * span,
        transactions=st2["transactions"] - st0["transactions"] - idle.transactions * span,
        client_cpu=client,
        drain=drain,
        failed=len(result.failed),
    )


def show(window: Window, label: str = "") -> None:
    print(
        f"  {label or window.kind:<22} n={window.n:<5} {window.rps:6.1f} req/s"
        f"  p50 {window.p50:7.1f} ms  p99 {window.p99:7.1f} ms"
        f"  CPU/req write side {window.cpu_ms(WRITE_SIDE):6.2f} ms, stack {window.cpu_ms():6.2f} ms"
        f"  SQL/req {window.per_request(window.statements):5.1f}"
        f"  drain {window.drain:4.1f} s" + (f"  FAILED {window.failed}" if window.failed else ""),
        flush=True,
    )


def unmeasured(stack: Stack, calls: list[Call], concurrency: int = 8) -> LoadResult:
    result = send_all(stack.write_url, calls, concurrency)
    if result.failed:
        first = result.failed[0]
        print(
            f"  warning: {len(result.failed)} set-up requests failed: {first.status} "
            f"{first.body[:200]!r}"
        )
    return result


def clear_carts(stack: Stack, customers: list[Account]) -> None:
    calls = [remove_from_cart(c, pid) for c in customers for pid in sorted(c.lines)]
    if calls:
        unmeasured(stack, calls)


@dataclass
class Shop:
    """The accounts a stack's scenarios share, and its idle baseline."""

    stack: Stack
    seller: Account
    customers: list[Account]
    idle: Idle
    concurrency: int
    results: dict[str, Any] = field(default_factory=dict)

    def fresh_tokens(self) -> None:
        conn = Connection(self.stack.write_url)
        for account in [self.seller, *self.customers]:
            refresh(conn, account)
        conn.close()

    def products(self, count: int, label: str, stock: int = 100_000) -> list[str]:
        return create_products(self.stack.write_url, self.seller, count, label, stock)


def open_shop(stack: Stack, customers: int, concurrency: int, idle_seconds: float) -> Shop:
    """Sign up a seller and the customers through the API, warm the workers up, measure idle."""
    started = time.monotonic()
    conn = Connection(stack.write_url)
    seller = sign_up(conn, "seller")
    conn.close()
    accounts: list[Account] = []
    lock = threading.Lock()

    def sign_up_some(count: int) -> None:
        mine = Connection(stack.write_url)
        for _ in range(count):
            account = sign_up(mine, "customer")
            with lock:
                accounts.append(account)
        mine.close()

    share = [customers // 8 + (i < customers % 8) for i in range(8)]
    threads = [threading.Thread(target=sign_up_some, args=(n,)) for n in share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        f"  signed up 1 seller and {len(accounts)} customers in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    warm = create_products(stack.write_url, seller, 8, "warm-up", 100_000)
    warmers = accounts[:16]
    unmeasured(stack, [add_to_cart(c, warm[i % 8]) for i, c in enumerate(warmers)])
    unmeasured(stack, [check_out(c) for c in warmers])
    idle = measure_idle(stack, idle_seconds)
    busy = ", ".join(f"{k} {v:.3f}" for k, v in sorted(idle.cores.items(), key=lambda x: -x[1]))
    print(
        f"  idle stack: {idle.total:.3f} cores ({busy}); {idle.statements:.1f} SQL statements/s",
        flush=True,
    )
    return Shop(stack, seller, accounts, idle, concurrency)


# -- 1. add-to-cart and checkout at concurrency c --------------------------------------
def cart_and_checkout(shop: Shop, rounds: int, lines: int, modes: set[str]) -> None:
    """Each round: every customer adds `lines` new products (fresh carts), then checks out."""
    windows: dict[str, list[Window]] = {"add-to-cart": [], "checkout": []}
    for number in range(rounds):
        shop.fresh_tokens()
        products = shop.products(50, f"round {number}")
        adds = [
            add_to_cart(c, products[(i + 13 * line) % len(products)])
            for line in range(lines)  # line-major: one customer's adds are far apart
            for i, c in enumerate(shop.customers)
        ]
        outs = [check_out(c) for c in shop.customers]
        for kind, calls in (("add-to-cart", adds), ("checkout", outs)):
            if MODE_OF[kind] in modes:
                window = measured(shop.stack, shop.idle, kind, lambda c=calls: send(shop, c))
                show(window, f"round {number + 1} {kind}")
                windows[kind].append(window)
            else:
                unmeasured(shop.stack, calls)
        clear_carts(shop.stack, shop.customers)  # only if a checkout failed
    shop.results.update({k: v for k, v in windows.items() if v})


def send(shop: Shop, calls: list[Call]) -> LoadResult:
    return send_all(shop.stack.write_url, calls, shop.concurrency)


# -- 2. the flash sale -----------------------------------------------------------------
def flash_sale(shop: Shop, rounds: int, units: int) -> None:
    """All customers hold one of `units` units in their carts and check out at once."""
    outcomes = []
    for number in range(rounds):
        shop.fresh_tokens()
        product = shop.products(1, f"flash {number}", stock=units)[0]
        unmeasured(shop.stack, [add_to_cart(c, product) for c in shop.customers])
        box: dict[str, Any] = {}

        def stampede(box: dict[str, Any] = box) -> LoadResult:
            box["result"] = at_once(shop.stack.write_url, [check_out(c) for c in shop.customers])
            return box["result"]

        window = measured(shop.stack, shop.idle, "checkout", stampede)
        answers = box["result"].answers
        statuses = [a.status for a in answers]
        refused = [a for a in answers if a.status == 409 and b"out_of_stock" in a.body]
        orders = statuses.count(201)
        seconds = [a.seconds for a in answers]
        outcome = {
            "buyers": len(answers),
            "orders": orders,
            "out_of_stock": len(refused),
            "other": len(answers) - orders - len(refused),
            "p50": percentile(seconds, 0.5) * 1000,
            "p99": percentile(seconds, 0.99) * 1000,
            "max": max(seconds) * 1000,
            "cpu_stack_ms": window.cpu_ms(),
            "ok": orders == units and orders + len(refused) == len(answers),
        }
        outcomes.append(outcome)
        verdict = "OK" if outcome["ok"] else "FAILED"
        print(
            f"  flash {number + 1}: {len(answers)} buyers, {units} units -> {orders} orders, "
            f"{len(refused)} out_of_stock, {outcome['other']} other; p50 {outcome['p50']:.0f} ms"
            f" p99 {outcome['p99']:.0f} ms max {outcome['max']:.0f} ms;"
            f" ASSERT exactly {units} orders: {verdict}",
            flush=True,
        )
        clear_carts(shop.stack, shop.customers)
    shop.results["flash"] = outcomes


def at_once(url: str, calls: list[Call]) -> LoadResult:
    """Every call from its own connection, released together; latency from the release."""
    connections = [Connection(url) for _ in calls]
    for conn in connections:  # connected beforehand: the handshake is not the server's work
        conn.connect()
    gate, answers, lock = threading.Barrier(len(calls) + 1), [], threading.Lock()

    def buyer(conn: Connection, call: Call) -> None:
        gate.wait()
        start = time.perf_counter()
        try:
            status, body = conn.request(call.method, call.path, call.body, call.headers)
        except OSError as error:
            status, body = 0, repr(error).encode()
        if call.after:
            call.after(status, body)
        with lock:
            answers.append((call, status, time.perf_counter() - start, body))

    threads = [
        threading.Thread(target=buyer, args=pair, daemon=True)
        for pair in zip(connections, calls, strict=True)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return LoadResult(
        [Answer(c.kind, s, t, s == c.expect, b) for c, s, t, b in answers],
        wall,
        sum(c.resent for c in connections),
    )


# -- 5. add-to-cart into carts a few weeks old ----------------------------------------
def old_carts(shop: Shop, rounds: int, adds: int, low: int, high: int) -> None:
    """Half the customers' carts hold low..high-adds lines, the other half's are empty; each
    round both halves add `adds` lines, measured separately (alternating order), then the
    added lines are removed again."""
    half = len(shop.customers) // 2
    old, fresh = shop.customers[:half], shop.customers[half:]
    pool = shop.products(high + adds + 8, "old carts")
    rng = random.Random(10)
    sizes = [rng.randint(low, high - adds) for _ in old]
    started = time.monotonic()
    prep = [
        add_to_cart(c, pool[(i + line) % len(pool)])
        for line in range(max(sizes))
        for i, c in enumerate(old)
        if line < sizes[i]
    ]
    unmeasured(shop.stack, prep)
    print(
        f"  old carts: {len(old)} carts of {low}-{high - adds} lines "
        f"({len(prep)} adds, {time.monotonic() - started:.0f} s)",
        flush=True,
    )
    windows: dict[str, list[Window]] = {"fresh": [], "old": []}
    for number in range(rounds):
        shop.fresh_tokens()
        order = (("fresh", fresh, 0), ("old", old, high - adds))
        for label, group, skip in order if number % 2 == 0 else order[::-1]:
            calls = [
                add_to_cart(c, pool[(i + skip + line) % len(pool)])
                for line in range(adds)
                for i, c in enumerate(group)
            ]
            before = {id(c): set(c.lines) for c in group}
            window = measured(shop.stack, shop.idle, "add-to-cart", lambda c=calls: send(shop, c))
            show(window, f"round {number + 1} {label} cart")
            windows[label].append(window)
            undo = [remove_from_cart(c, p) for c in group for p in c.lines - before[id(c)]]
            unmeasured(shop.stack, undo)
    shop.results["oldcarts"] = windows
    clear_carts(shop.stack, old)


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
