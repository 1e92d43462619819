"""The in-process side of bench/write.py, run with the measured checkout's own interpreter.

bench/write.py starts it as `<checkout>/.venv/bin/python bench/write_inprocess.py COMMAND …`
with that checkout on PYTHONPATH and the environment of the stack it launched, so the code
measured is the checkout's, not this file's. Each command prints one JSON line.

  initdb DIR          the stack's PostgreSQL data directory, with pg_stat_statements
  seed-growth         one customer buys one product COUNT times through the application
  appends             product creates through the application from THREADS threads, SECONDS long
  sql-per-request     the write API's statements per request, by bench/sql_per_request.py
  growth-inprocess    bench/growth_inprocess.py (in-process growth test) with the given options

The commands call the application as the views do (`shop()`, `payments()`); if a later
commit renames them, this is the one file to adapt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ADDRESS = {
    "name": "Bench",
    "line1": "1 Bench St",
    "city": "Testville",
    "postcode": "12345",
    "country": "GB",
}


PAYMENT_TOKEN = "tok_ok"  # noqa: S105 - the fake gateway's token for a captured charge


def emit(**fields: Any) -> None:
    print("BENCHJSON " + json.dumps(fields), flush=True)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")
    import django

    django.setup()


def initdb(args: argparse.Namespace) -> None:
    """A data directory made by the launcher's own code (it starts PostgreSQL once, then
    stops it), plus the statement statistics for the next start."""
    from infra.stack.servers import start_postgres
    from infra.stack.supervisor import Supervisor

    servers = Supervisor(sink=lambda *_: None)
    try:
        start_postgres(servers, Path(args.dir))
    finally:
        servers.stop_all(timeout=10)
    with (Path(args.dir) / "pgdata" / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# bench/write.py: count statements per request\n"
            "shared_preload_libraries = 'pg_stat_statements'\n"
            "pg_stat_statements.max = 20000\n"
        )
    emit(done=True)


def seed_growth(args: argparse.Namespace) -> None:
    """COUNT purchases (add one unit, check out, pay) by one customer of one product.

    Each command runs through the application as over HTTP, but two things make seeding
    10,000 purchases take a minute instead of hours: the aggregate cache (set in the
    environment before the application is built) keeps each command from replaying the whole
    history, and `save` is deferred so that the events of `--batch` purchases are written in
    one transaction. The stored events are the same as those the HTTP commands store.
    """
    os.environ.update(
        AGGREGATE_CACHE_MAXSIZE="10000",
        AGGREGATE_CACHE_FASTFORWARD="n",
        DEEPCOPY_FROM_AGGREGATE_CACHE="n",  # nothing else writes these streams meanwhile
    )
    setup_django()
    from write_api.application import shop
    from write_api.domain.metadata import CommandContext
    from write_api.payments.service import payments

    customer, product = uuid.UUID(args.customer), uuid.UUID(args.product)
    context = CommandContext(actor_id=str(customer), actor_role="customer")
    app, pay, started = shop(), payments(), time.monotonic()
    save, pending = app.save, {}

    def deferred(*aggregates: Any, **_: Any) -> None:
        for aggregate in aggregates:  # later loads must find them, saved or not
            pending[aggregate.id] = aggregate
            app.repository.cache.put(aggregate.id, aggregate)

    app.save = deferred  # type: ignore[method-assign]
    if hasattr(app, "_load"):  # since issue 10 orders load around the aggregate cache
        load = app._load

        def pending_first(aggregate_id: uuid.UUID, kind: type) -> object:
            return pending.get(aggregate_id) or load(aggregate_id, kind)

        app._load = pending_first  # type: ignore[method-assign]
    for number in range(1, args.count + 1):
        app.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=context)
        order = app.check_out(customer_id=customer, shipping_address=ADDRESS, context=context)
        pay.pay_order_with_token(
            order.id, customer_id=customer, token=PAYMENT_TOKEN, context=context
        )
        if number % args.batch == 0 or number == args.count:
            save(*pending.values())
            pending.clear()
    emit(purchases=args.count, seconds=time.monotonic() - started)


def appends(args: argparse.Namespace) -> None:
    """Create products from THREADS threads for SECONDS; every create is one new stream."""
    setup_django()
    from write_api.application import shop
    from write_api.domain.metadata import CommandContext

    seller = uuid.uuid4()
    context = CommandContext(actor_id=str(seller), actor_role="seller")
    app, lock, created, errors = shop(), threading.Lock(), [0], [""]
    deadline = time.monotonic() + args.seconds

    def create() -> None:
        while time.monotonic() < deadline:
            try:
                app.create_product(
                    name=f"Append bench {uuid.uuid4().hex[:12]}",
                    description=args.description,
                    price=Decimal("12.50"),
                    category_id=None,
                    stock=100,
                    seller_id=seller,
                    context=context,
                )
            except Exception as error:  # noqa: BLE001 - reported, and the run fails
                errors[0] = repr(error)
                return
            with lock:
                created[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=create) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.seconds + 30)
    emit(products=created[0], seconds=time.monotonic() - started, error=errors[0])


def sql_per_request(args: argparse.Namespace) -> None:
    setup_django()
    sys.path.insert(0, str(Path(args.script).parent))
    import sql_per_request as counter

    with counter.patched_clients():
        summaries = counter.measure(args.requests)
    emit(rows=[s.row() for s in summaries], markdown=[s.markdown() for s in summaries])


def growth_inprocess(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.script).parent))
    import growth_inprocess as growth

    status = growth.main(args.options)
    emit(status=status)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/write_inprocess.py")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("initdb").add_argument("dir", help="the stack's SHOPSTREAM_LOCAL_DIR")
    seed = sub.add_parser("seed-growth")
    for flag in ("--customer", "--product"):
        seed.add_argument(flag, required=True)
    seed.add_argument("--count", type=int, required=True)
    seed.add_argument("--batch", type=int, default=50, help="purchases per transaction")
    append = sub.add_parser("appends")
    append.add_argument("--threads", type=int, default=8)
    append.add_argument("--seconds", type=float, default=10)
    append.add_argument("--description", default="A product created by the append benchmark.")
    sql = sub.add_parser("sql-per-request")
    sql.add_argument("script")
    sql.add_argument("--requests", type=int, default=30)
    growth = sub.add_parser("growth-inprocess")
    growth.add_argument("script")
    growth.add_argument("options", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    commands = {
        "initdb": initdb,
        "seed-growth": seed_growth,
        "appends": appends,
        "sql-per-request": sql_per_request,
        "growth-inprocess": growth_inprocess,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
