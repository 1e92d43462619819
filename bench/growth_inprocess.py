"""In-process growth test: does a command's cost grow with the history it touches?

One customer buys one product again and again (add to cart, check out, pay), straight
through the `Shop` application, with no HTTP in between. After N earlier purchases (each
checkpoint of `--checkpoints`), the next `--samples` purchases are timed; the report gives the
median latency of add-to-cart, checkout and pay at each checkpoint and its ratio to the first.
Flat means a ratio near 1 whatever N: the product's and the cart's streams grow by several
events per purchase, so a command that replays them grows linearly.

    .venv/bin/python bench/growth_inprocess.py --store memory
    .venv/bin/python -m infra.stack run -- \
        .venv/bin/python bench/growth_inprocess.py --store postgres

`--store postgres` uses `DATABASE_URL` (as `infra.stack run` sets it) and keeps its tables in a
schema of its own, dropped at the end. The code measured is whichever `write_api` is imported:
`PYTHONPATH=<another checkout>` measures that checkout with the same script (before/after).
`main()` is meant to be called by `bench/write.py` too: `main(["--store", "memory"])`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

ADDRESS = {
    "name": "Ada",
    "line1": "1 Bench St",
    "city": "Testville",
    "postcode": "12345",
    "country": "GB",
}
STOCK = 1_000_000  # the shop's maximum: enough for any run
COMMANDS = ("add-to-cart", "checkout", "pay")


@dataclass
class Timings:
    """Latency samples (seconds) of each command, by checkpoint."""

    samples: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    rows: dict[int, list[int]] = field(default_factory=dict)  # stored rows read per purchase

    def add(self, checkpoint: int, command: str, seconds: float) -> None:
        self.samples.setdefault(checkpoint, {}).setdefault(command, []).append(seconds)

    def median_ms(self, checkpoint: int, command: str) -> float:
        return statistics.median(self.samples[checkpoint][command]) * 1000


@contextmanager
def memory_shop() -> Iterator[Any]:
    from write_api.application import Shop

    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        yield shop
    finally:
        shop.close()


@contextmanager
def postgres_shop(database_url: str) -> Iterator[Any]:
    """A Shop on the given PostgreSQL, its tables in a throwaway schema."""
    import dj_database_url
    import psycopg

    from write_api.application import Shop, event_store_env

    database = dict(dj_database_url.parse(database_url))
    schema = f"growth_{secrets.token_hex(4)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    shop = Shop(env=event_store_env(database, CREATE_TABLE="y", POSTGRES_SCHEMA=schema))
    try:
        yield shop
    finally:
        shop.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def timed(run: Callable[[], Any]) -> tuple[Any, tuple[float, float]]:
    """What `run` returns, and the wall-clock and this process's CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def grow(shop: Any, checkpoints: Sequence[int], samples: int) -> Timings:
    """Buy one product `max(checkpoints) + samples` times; time the purchases after each
    checkpoint."""
    from write_api.domain.metadata import CommandContext

    context = CommandContext(actor_role="customer")
    customer = uuid4()
    product = shop.create_product(
        name="Growth mug",
        description="",
        price=Decimal("9.99"),
        category_id=None,
        stock=STOCK,
        seller_id=uuid4(),
        context=context,
    ).id
    timings = Timings()
    rows = count_rows_read(shop)
    windows = {n + k: n for n in checkpoints for k in range(samples)}
    for done in range(max(checkpoints) + samples):
        before = rows[0]
        spans = purchase(shop, customer, product, context, charge=f"ch_growth_{done}")
        if done in windows:
            for command, (wall, cpu) in spans.items():
                timings.add(windows[done], command, wall)
                timings.add(windows[done], f"{command} cpu", cpu)
            timings.rows.setdefault(windows[done], []).append(rows[0] - before)
    return timings


def count_rows_read(shop: Any) -> list[int]:
    """A running count of the stored events and snapshots the application reads: the cost
    that grows with history when loads replay it, and does not depend on machine load."""
    count = [0]
    recorders = [shop.recorder] + ([shop.snapshots.recorder] if shop.snapshots else [])
    for recorder in recorders:
        select = recorder.select_events

        def counted(*args: Any, _select: Any = select, **kwargs: Any) -> Any:
            found = _select(*args, **kwargs)
            count[0] += len(found)
            return found

        recorder.select_events = counted
    return count


def purchase(
    shop: Any, customer: UUID, product: UUID, context: Any, *, charge: str
) -> dict[str, tuple[float, float]]:
    """One purchase: add one unit, check out, pay; the wall and CPU seconds of each command."""
    _, added = timed(
        lambda: shop.add_to_cart(
            customer_id=customer, product_id=product, quantity=1, context=context
        )
    )
    order, checked_out = timed(
        lambda: shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=context)
    )
    _, paid = timed(lambda: shop.pay_order(order.id, charge_id=charge, context=context))
    return {"add-to-cart": added, "checkout": checked_out, "pay": paid}


def report(timings: Timings, checkpoints: Sequence[int], store: str) -> str:
    """A markdown table: median wall-clock and client-CPU ms of each command at each N, with
    their ratio to the first N. CPU (of this process: the application, not the database) is
    the steadier figure on a busy machine."""
    first = checkpoints[0]
    lines = [
        f"store={store}, medians of the purchases after N earlier ones, wall / client CPU"
        f" (ratio to N={first})",
        "| N | " + " | ".join(COMMANDS) + " | stored rows read per purchase |",
        "| --- |" + " --- |" * (len(COMMANDS) + 1),
    ]
    for n in checkpoints:
        cells = [
            " / ".join(
                f"{timings.median_ms(n, key):.2f} ms ({ratio(timings, n, first, key):.2f}x)"
                for key in (command, f"{command} cpu")
            )
            for command in COMMANDS
        ]
        rows_read = statistics.mean(timings.rows[n])
        lines.append(f"| {n:,} | " + " | ".join(cells) + f" | {rows_read:,.1f} |")
    return "\n".join(lines)


def ratio(timings: Timings, n: int, first: int, key: str) -> float:
    return timings.median_ms(n, key) / timings.median_ms(first, key)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["memory", "postgres"], default="memory")
    parser.add_argument(
        "--checkpoints", default="100,1000", help="comma-separated N (earlier purchases)"
    )
    parser.add_argument("--samples", type=int, default=20, help="purchases timed per checkpoint")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args(argv)
    checkpoints = sorted(int(n) for n in args.checkpoints.split(","))
    if args.store == "postgres" and not args.database_url:
        parser.error("--store postgres needs DATABASE_URL (run it under infra.stack run)")
    shop_of = memory_shop() if args.store == "memory" else postgres_shop(args.database_url)
    with shop_of as shop:
        timings = grow(shop, checkpoints, args.samples)
    import write_api

    print(f"code: {os.path.dirname(os.path.dirname(write_api.__file__))}")
    print(report(timings, checkpoints, args.store))
    return 0


if __name__ == "__main__":
    sys.exit(main())
