"""Product time travel (`?as_of=` and `/history`) on long histories: folded from the product's
first event (before) against folded from its nearest state checkpoint (after).

For each `--events` size a product gets that many events through the in-process
application (checkouts reserve, payments sell, a repricing every 50 events: real events, 500
per save), and the audit projector's own `apply` projects them in batches of 500, each in
one transaction, as its consumer does (that keeps the checkpoints). Then each read runs
`--repeat` times through the read API's selectors, first with the product's checkpoints
(after), then with them deleted in a transaction rolled back afterwards (before: the
fallback fold from the first event, which is what every read did before checkpoints).

    .venv/bin/python -m infra.stack run -- .venv/bin/python bench/product_history.py \
        --events 2000 20000

Wall time and CPU per read: this process's (decoding rows, folding, rendering) and the
PostgreSQL backend's that served it (from /proc). The store is the stack's development
database (.local/); every run adds new products.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")

PER_SAVE = 500
BATCH = 500  # envelopes per audit apply, as the consumer's batches
TICKS = os.sysconf("SC_CLK_TCK")


def seed(shop: Any, events: int) -> tuple[UUID, int]:
    """A product with `events` events after its creation; the store position before it."""
    from write_api.domain.metadata import CommandContext

    start = shop.recorder.max_notification_id() or 0
    seller = CommandContext(actor_id=str(uuid4()), actor_role="seller")
    buyer = CommandContext(actor_id=str(uuid4()), actor_role="customer")
    saved = shop.create_product(
        name="History mug",
        description="Holds tea.",
        price=Decimal("9.99"),
        category_id=None,
        stock=1_000_000,
        seller_id=UUID(seller.actor_id),
        context=seller,
    )
    product, order = shop.get_product(saved.id), uuid4()
    for step in range(events):
        if step % 50 == 49:
            product.reprice(price=Decimal("9.99") + Decimal(step % 1000) / 100, context=seller)
        elif step % 2 == 0:
            order = uuid4()
            product.reserve(order_id=order, quantity=1, context=buyer)
        else:
            product.sell(order_id=order, context=buyer)
        if step % PER_SAVE == PER_SAVE - 1 or step == events - 1:
            shop.save(product)
    return saved.id, start


def project(shop: Any, start: int) -> float:
    """Audit-project everything stored after `start`; seconds the applies took."""
    from django.db import transaction

    from projections.audit.projector import AuditProjector
    from write_api.published_events import to_envelope

    notifications = shop.recorder.select_notifications(
        start=start, limit=1_000_000, inclusive_of_start=False
    )
    envelopes = [to_envelope(shop.mapper.to_domain_event(n), n.id) for n in notifications]
    took = 0.0
    for first in range(0, len(envelopes), BATCH):
        started = time.perf_counter()
        with transaction.atomic():
            AuditProjector().apply(envelopes[first : first + BATCH])
        took += time.perf_counter() - started
    return took


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [(pid,)] = cursor.fetchall()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def timed(read: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """Median wall ms, mean process CPU ms and mean backend CPU ms per read."""
    read()  # warm: plans, caches
    walls = []
    cpu, server = time.process_time(), backend_cpu()
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        walls.append((time.perf_counter() - started) * 1000)
    cpu, server = time.process_time() - cpu, backend_cpu() - server
    return statistics.median(walls), cpu * 1000 / repeat, server * 1000 / repeat


def reads(product_id: UUID, events: int) -> dict[str, Callable[[], Any]]:
    from projections.audit.models import AuditEvent
    from read_api import product_history as history

    times = list(
        AuditEvent.objects.filter(aggregate_id=product_id)
        .order_by("version")
        .values_list("occurred_at", flat=True)
    )
    late, middle = times[-1] + timedelta(seconds=1), times[len(times) // 2]
    deep = (events // 2) // 100 + 1  # the page holding the middle entry, 100 a page
    return {
        "as_of now": lambda: history.product_as_of(product_id, late),
        "as_of middle": lambda: history.product_as_of(product_id, middle),
        f"page {deep} (100/page)": lambda: history.product_history_page(product_id, deep, 100),
        "last page (100/page)": lambda: history.product_history_page(
            product_id, (events + 1 + 99) // 100, 100
        ),
        "cursor after middle": lambda: history.product_history_slice(
            product_id, after=events // 2, size=100
        ),
    }


def measure(product_id: UUID, events: int, repeat: int, before: bool) -> dict[str, tuple]:
    from django.db import transaction

    from projections.audit.models import ProductStateCheckpoint

    with transaction.atomic():
        if before:
            ProductStateCheckpoint.objects.filter(product_id=product_id).delete()
        figures = {name: timed(read, repeat) for name, read in reads(product_id, events).items()}
        transaction.set_rollback(True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--repeat", type=int, default=10, help="reads of each kind, each way")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    from projections.audit.models import ProductStateCheckpoint
    from write_api.application import shop

    app = shop()
    every = settings.AUDIT_CHECKPOINT_EVERY
    print(f"load before: {os.getloadavg()}  cpus: {os.cpu_count()}  checkpoint every {every}")
    print("| events | read | before: ms p50 | CPU ms (app + db) | after: ms p50 | CPU ms | x |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for events in args.events:
        started = time.perf_counter()
        product_id, start = seed(app, events)
        seeded = time.perf_counter() - started
        applied = project(app, start)
        kept = ProductStateCheckpoint.objects.filter(product_id=product_id).count()
        print(
            f"<!-- {events} events: seeded in {seeded:.1f} s, audit apply {applied:.1f} s "
            f"({events / applied:.0f} events/s, {kept} checkpoints) -->",
            flush=True,
        )
        after = measure(product_id, events, args.repeat, before=False)
        before = measure(product_id, events, args.repeat, before=True)
        for name, (wall, cpu, server) in before.items():
            new_wall, new_cpu, new_server = after[name]
            print(
                f"| {events} | {name} | {wall:.1f} | {cpu:.1f} + {server:.1f} | "
                f"{new_wall:.1f} | {new_cpu:.1f} + {new_server:.1f} | {wall / new_wall:.0f} |",
                flush=True,
            )
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
