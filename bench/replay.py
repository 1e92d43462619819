"""Replay throughput (issue 13, item 3): events/s of `manage.py replay_projection`, at two
store sizes, for the catalog and shopping projections.

The store is seeded through the in-process application (real commands, real events): each
round a seller lists a product, and customers buy it (add to cart, check out, pay) and
review it; about a third of the events are the catalog's, half the shopping's. At each size
every projector named is replayed from the whole store into a new generation and switched
in, as the command does (no live projector running: the figure is the replay's own).

    .venv/bin/python -m infra.stack run -- .venv/bin/python bench/replay.py \
        --sizes 20000 100000 --projectors catalog shopping

The store is the stack's development database (.local/): sizes are totals, so a second
run reuses the events already there. Rows phase: reading, decoding and applying up to the
switch; the catalog's index generation is rebuilt after it and timed on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")

BUYERS_PER_PRODUCT = 4


def seed(shop: object, target: int, threads: int) -> float:
    """Shop until the store holds `target` events; seconds taken."""
    started = time.perf_counter()

    def shop_until_full() -> None:
        while (shop.recorder.max_notification_id() or 0) < target:  # type: ignore[attr-defined]
            shop_round(shop)

    workers = [threading.Thread(target=shop_until_full) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def shop_round(shop: object) -> None:
    from write_api.domain.metadata import CommandContext

    seller = CommandContext(actor_id=str(uuid4()), actor_role="seller")
    product: UUID = shop.create_product(  # type: ignore[attr-defined]
        name="Replay mug",
        description="Holds tea.",
        price=Decimal("9.99"),
        category_id=None,
        stock=1_000,
        seller_id=UUID(seller.actor_id),
        context=seller,
    ).id
    address = {"name": "A", "line1": "1 St", "city": "C", "postcode": "1", "country": "GB"}
    for _ in range(BUYERS_PER_PRODUCT):
        customer = uuid4()
        buyer = CommandContext(actor_id=str(customer), actor_role="customer")
        shop.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=buyer)  # type: ignore[attr-defined]
        order = shop.check_out(customer_id=customer, shipping_address=address, context=buyer)  # type: ignore[attr-defined]
        shop.pay_order(order.id, charge_id=f"ch_{order.id}", context=buyer)  # type: ignore[attr-defined]
        shop.write_review(  # type: ignore[attr-defined]
            customer_id=customer,
            product_id=product,
            rating=4,
            comment="Fine.",
            reviewer_name="A",
            context=buyer,
        )


def replay(shop: object, name: str, batch: int) -> dict[str, float]:
    from django.conf import settings

    from projections.registry import REPLAYS
    from projections.replay.replayer import Replayer

    replay = REPLAYS[name]
    rows_only = dataclasses.replace(replay, after_switch=None)
    replayer = Replayer(shop, rows_only, f"{settings.TOPIC_PREFIX}{name}", batch)  # type: ignore[arg-type]
    cpu = time.process_time()
    outcome = replayer.run()
    figures = {
        "events": outcome.events,
        "head": outcome.head,
        "seconds": outcome.seconds,
        "cpu": time.process_time() - cpu,
        "load": os.getloadavg()[0],
    }
    if replay.after_switch is not None:
        started = time.perf_counter()
        replay.after_switch(shop, None)  # type: ignore[arg-type]
        figures["index_seconds"] = time.perf_counter() - started
    return figures


def measure(app: object, name: str, args: argparse.Namespace, profile: bool) -> dict[str, float]:
    if args.profile and profile:
        import cProfile

        profiler = cProfile.Profile()
        figures = profiler.runcall(replay, app, name, args.batch)
        profiler.dump_stats(f"{args.profile}.{name}")
    else:
        figures = replay(app, name, args.batch)
    rate = figures["events"] / figures["seconds"]
    index = figures.get("index_seconds")
    print(
        f"  {name:9} {int(figures['events']):>7} events in {figures['seconds']:6.1f} s: "
        f"{rate:7.0f} events/s ({figures['head'] / figures['seconds']:.0f} stored events "
        f"scanned/s; replay process CPU {figures['cpu']:.1f} s; 1-min load {figures['load']:.1f})"
        + (f"; index rebuilt after the switch in {index:.1f} s" if index else ""),
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--projectors", nargs="+", default=["catalog", "shopping"])
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--seed-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="replays per projector and size")
    parser.add_argument("--profile", help="write a cProfile of the last replay here")
    args = parser.parse_args()
    import django

    django.setup()
    from write_api.application import shop

    app = shop()
    print(f"load before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    for size in args.sizes:
        seconds = seed(app, size, args.seed_threads)
        head = app.recorder.max_notification_id() or 0
        print(f"store: {head} events (seeded in {seconds:.0f} s)", flush=True)
        rates: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name in args.projectors:
                figures = measure(app, name, args, profile=size == args.sizes[-1])
                rates.setdefault(name, []).append(figures["events"] / figures["seconds"])
        for name, measured in rates.items():
            print(f"  {name:9} median {statistics.median(measured):7.0f} events/s", flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
