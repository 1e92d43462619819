"""The HTTP scenarios of bench/write.py: add-to-cart and checkout at concurrency c, the
flash sale, and add-to-cart into old carts; and the accounts they share."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from write_load import (
    Account,
    Answer,
    Call,
    Connection,
    LoadResult,
    add_to_cart,
    at_once,
    check_out,
    create_products,
    percentile,
    refresh,
    remove_from_cart,
    send_all,
    sign_up,
)
from write_measure import Idle, Window, measure_idle, measured, show
from write_stack import Stack

MODE_OF = {"add-to-cart": "cart", "checkout": "checkout"}


def unmeasured(stack: Stack, calls: list[Call], concurrency: int = 8) -> LoadResult:
    result = send_all(stack.write_url, calls, concurrency)
    if result.failed:
        first = result.failed[0]
        print(
            f"  warning: {len(result.failed)} set-up requests failed: {first.status} "
            f"{first.body[:200]!r}"
        )
    return result


def clear_carts(
    stack: Stack, customers: list[Account], keep: dict[int, set[str]] | None = None
) -> None:
    """Remove the lines each customer added (all but `keep[id(customer)]`), one pass of the
    customers per line, so that no two connections change one cart at the same time."""
    lines = [sorted(c.lines - (keep or {}).get(id(c), set())) for c in customers]
    calls = [
        remove_from_cart(customer, mine[line])
        for line in range(max(map(len, lines), default=0))
        for customer, mine in zip(customers, lines, strict=True)
        if line < len(mine)
    ]
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
        others = Counter(error_code(a) for a in answers if a.status != 201 and a not in refused)
        outcome = {
            "buyers": len(answers),
            "orders": orders,
            "out_of_stock": len(refused),
            "other": ", ".join(f"{n} x {code}" for code, n in others.items()) or "none",
            "p50": percentile(seconds, 0.5) * 1000,
            "p99": percentile(seconds, 0.99) * 1000,
            "max": max(seconds) * 1000,
            "placed_max": max((a.seconds for a in answers if a.status == 201), default=0) * 1000,
            "refused_p50": percentile([a.seconds for a in refused] or [0.0], 0.5) * 1000,
            "cpu_stack_ms": window.cpu_ms(),
            "ok": orders == units,
        }
        outcomes.append(outcome)
        verdict = "OK" if outcome["ok"] else "FAILED"
        print(
            f"  flash {number + 1}: {len(answers)} buyers, {units} units -> {orders} orders, "
            f"{len(refused)} out_of_stock, other answers: {outcome['other']};"
            f" p50 {outcome['p50']:.0f} ms"
            f" p99 {outcome['p99']:.0f} ms max {outcome['max']:.0f} ms;"
            f" slowest order {outcome['placed_max']:.0f} ms,"
            f" out_of_stock p50 {outcome['refused_p50']:.0f} ms;"
            f" ASSERT exactly {units} orders: {verdict}",
            flush=True,
        )
        clear_carts(shop.stack, shop.customers)
    shop.results["flash"] = outcomes


def error_code(answer: Answer) -> str:
    """`409 conflict` and the like: the status and the error envelope's code."""
    try:
        return f"{answer.status} {json.loads(answer.body)['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return f"{answer.status} {answer.body[:60]!r}"


# -- 5. add-to-cart into carts a few weeks old ----------------------------------------
def old_carts(shop: Shop, rounds: int, adds: int, low: int, high: int) -> None:
    """Half the customers' carts are a few weeks old: they hold low..high-adds lines, and as
    many other products were put in and taken out again meanwhile; the other half's carts are
    empty. Each round both halves add `adds` lines, measured separately (alternating order),
    then the added lines are removed again."""
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
    for step in range(max(sizes)):  # browsing: one product in and out again, per line held
        browsing = [(c, pool[(i + high + step % 8) % len(pool)]) for i, c in enumerate(old)]
        browsing = [(c, p) for (c, p), size in zip(browsing, sizes, strict=True) if step < size]
        unmeasured(shop.stack, [add_to_cart(c, p) for c, p in browsing])
        unmeasured(shop.stack, [remove_from_cart(c, p) for c, p in browsing])
    print(
        f"  old carts: {len(old)} carts of {low}-{high - adds} lines, each line added, one more"
        f" product added and removed ({3 * sum(sizes)} commands, "
        f"{time.monotonic() - started:.0f} s)",
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
            clear_carts(shop.stack, group, keep=before)
    shop.results["oldcarts"] = windows
    clear_carts(shop.stack, old)
