"""SQL statements (and Redis commands) per write-API request: add-to-cart and checkout.

Every statement a request sends to PostgreSQL is counted in the client, whichever
connection sends it: Django's (the user row, idempotency keys, throttles' fallbacks) and
the event store's own psycopg pool (aggregate loads, the event insert with its table lock
and NOTIFY). Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) counts too: each is
a statement the server parses and answers. A pipelined batch is still one statement per
statement; `executemany` counts one per row.

Run it against fresh local servers (the launcher migrates and prepares them first):

    .venv/bin/python -m infra.stack run -- .venv/bin/python bench/sql_per_request.py

or against the servers of a running `make up` (it writes users, a product and orders there):

    set -a; . ./.local/stack.env; set +a; .venv/bin/python bench/sql_per_request.py

The requests go through the write API's WSGI handler in this process (Django's test
client), so the count is exact and the same code runs as under gunicorn. Other scripts
(bench/write.py) import `counting` and `per_request` to add the figures to their report.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postcode": "12345",
           "country": "US"}  # fmt: skip


@dataclass
class Tally:
    """What one request (or any block) sent: statements per connection kind, Redis commands."""

    django: int = 0
    event_store: int = 0
    transaction_control: int = 0  # of the two above: BEGIN, COMMIT, ROLLBACK, SAVEPOINT
    redis: int = 0  # commands, a pipeline counting once (one round trip)
    statements: list[str] = field(default_factory=list)  # "django: SELECT ...", in order
    cpu_ms: float = 0.0  # this process's CPU time (the WSGI handler; the servers' not counted)

    @property
    def sql(self) -> int:
        return self.django + self.event_store


_local = threading.local()


def _active() -> Tally | None:
    return getattr(_local, "tally", None)


def _count_statement(
    connection: Any, query: Any, statements: int = 1, *, control: bool = False
) -> None:
    tally = _active()
    if tally is None:
        return
    django = _is_django(connection)
    if django:
        tally.django += statements
    else:
        tally.event_store += statements
    if control:
        tally.transaction_control += statements
    text = " ".join(_text(query).split())[:100]
    tally.statements.append(f"{'django' if django else 'events'} x{statements}: {text}")


def _is_django(connection: Any) -> bool:
    from django.db import connections

    return any(c.connection is connection for c in connections.all(initialized_only=True))


def _patched() -> Iterator[None]:
    """Wrap psycopg's and redis-py's senders for the life of the block (this process)."""
    import psycopg
    import redis.client
    from psycopg._connection_base import BaseConnection

    cursor_execute = psycopg.Cursor.execute
    cursor_executemany = psycopg.Cursor.executemany
    exec_command = BaseConnection._exec_command
    redis_command = redis.client.Redis.execute_command
    pipeline_execute = redis.client.Pipeline.execute

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        _count_statement(self.connection, query, control=_is_control(query))
        return cursor_execute(self, query, *args, **kwargs)

    def executemany(self: Any, query: Any, params_seq: Any, *args: Any, **kwargs: Any) -> Any:
        rows = list(params_seq)
        _count_statement(self.connection, query, len(rows))
        return cursor_executemany(self, query, rows, *args, **kwargs)

    def command(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        # psycopg's own BEGIN / COMMIT / ROLLBACK / SAVEPOINT (transaction blocks, commit()).
        _count_statement(self, statement, control=True)
        return exec_command(self, statement, *args, **kwargs)

    def redis_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        if (tally := _active()) is not None:
            tally.redis += 1
        return redis_command(self, *args, **kwargs)

    def pipeline_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if (tally := _active()) is not None and self.command_stack:
            tally.redis += 1
        return pipeline_execute(self, *args, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]
    BaseConnection._exec_command = command  # type: ignore[method-assign]
    redis.client.Redis.execute_command = redis_execute  # type: ignore[method-assign]
    redis.client.Pipeline.execute = pipeline_run  # type: ignore[method-assign]
    try:
        yield
    finally:
        psycopg.Cursor.execute = cursor_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = cursor_executemany  # type: ignore[method-assign]
        BaseConnection._exec_command = exec_command  # type: ignore[method-assign]
        redis.client.Redis.execute_command = redis_command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = pipeline_execute  # type: ignore[method-assign]


patched_clients = contextlib.contextmanager(_patched)

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START TRANSACTION")


def _text(query: Any) -> str:
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    if isinstance(query, str):
        return query
    with contextlib.suppress(Exception):  # psycopg.sql.Composable renders without a connection
        return str(query.as_string(None))
    return str(query)


def _is_control(query: Any) -> bool:
    return _text(query).lstrip().upper().startswith(_CONTROL)


@contextlib.contextmanager
def counting() -> Iterator[Tally]:
    """Count what this thread sends inside the block (the clients must be patched)."""
    tally = Tally()
    _local.tally = tally
    started = time.process_time()
    try:
        yield tally
    finally:
        tally.cpu_ms = (time.process_time() - started) * 1000
        _local.tally = None


@dataclass
class Summary:
    """Per-request figures over `tallies`: mean, and min-max of total SQL statements."""

    name: str
    tallies: list[Tally] = field(default_factory=list)

    def mean(self, attribute: str) -> float:
        return statistics.fmean(getattr(t, attribute) for t in self.tallies)

    def row(self) -> str:
        sql = [t.sql for t in self.tallies]
        return (
            f"{self.name:<14} n={len(self.tallies):<4} SQL {self.mean('sql'):5.1f} "
            f"(min {min(sql)}, max {max(sql)}; Django {self.mean('django'):.1f}, "
            f"event store {self.mean('event_store'):.1f}; of them BEGIN/COMMIT/SAVEPOINT "
            f"{self.mean('transaction_control'):.1f})  Redis {self.mean('redis'):.1f}  "
            f"CPU {statistics.median(t.cpu_ms for t in self.tallies):.2f} ms (median)"
        )

    def markdown(self) -> str:
        return (
            f"| {self.name} | {len(self.tallies)} | {self.mean('sql'):.1f} | "
            f"{self.mean('django'):.1f} | {self.mean('event_store'):.1f} | "
            f"{self.mean('transaction_control'):.1f} | {self.mean('redis'):.1f} | "
            f"{statistics.median(t.cpu_ms for t in self.tallies):.2f} |"
        )


def per_request(
    name: str,
    send: Callable[[], Any],
    *,
    count: int,
    before: Callable[[], Any] | None = None,
    ok: Callable[[Any], bool] = lambda response: 200 <= response.status_code < 300,
) -> Summary:
    """Run `send` `count` times, each after an uncounted `before`; tally each `send`."""
    summary = Summary(name)
    for _ in range(count):
        if before is not None:
            before()
        with counting() as tally:
            response = send()
        if not ok(response):
            raise RuntimeError(f"{name}: {response.status_code} {response.content[:300]!r}")
        summary.tallies.append(tally)
    return summary


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")
    os.environ.setdefault("SHOPSTREAM_ENV", "development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no access log line per measured request
    # Measured, not limited: the throttles still count in Redis as they do under load.
    for scope in ("CART", "CHECKOUT", "AUTH"):
        os.environ.setdefault(f"THROTTLE_{scope}", "1000000/min")
    import django

    django.setup()


def _json(client: Any, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def _signed_in(role: str) -> Any:
    """A test client holding the access token of a new user of `role` (signed up over HTTP)."""
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    email = f"sql-bench-{role}-{uuid.uuid4().hex[:10]}@example.com"
    password = f"pw-{uuid.uuid4().hex}"
    signed_up = _json(client, "/api/v1/auth/signup", {"email": email, "password": password,
                                                        "role": role})  # fmt: skip
    assert signed_up.status_code == 201, signed_up.content
    tokens = _json(client, "/api/v1/auth/token", {"email": email, "password": password}).json()
    return Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")


def measure(requests: int = 30, warmup: int = 3) -> list[Summary]:
    """Add-to-cart, and checkout with an Idempotency-Key, `requests` times each."""
    seller, customer = _signed_in("seller"), _signed_in("customer")
    product = _json(seller, "/api/v1/products", {"name": "SQL bench mug", "description": "",
                                                  "price": "9.50", "stock": 1_000_000})  # fmt: skip
    assert product.status_code == 201, product.content
    item = {"product_id": product.json()["id"], "quantity": 1}

    def add() -> Any:
        return _json(customer, "/api/v1/cart/items", item)

    def check_out() -> Any:
        key = uuid.uuid4().hex
        return _json(customer, "/api/v1/checkout", {"shipping_address": ADDRESS},
                     **{"Idempotency-Key": key})  # fmt: skip

    added = itertools.count(1)

    def empty_now_and_then() -> None:
        if next(added) % 50 == 0:  # a line holds at most 99 units
            check_out()

    for _ in range(warmup):  # connections, pools and caches warm, as in a running server
        add()
        check_out()
    return [
        per_request("add-to-cart", add, count=requests, before=empty_now_and_then),
        per_request("checkout", check_out, count=requests, before=add),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/sql_per_request.py", description=__doc__)
    parser.add_argument("--requests", type=int, default=30, help="requests of each kind")
    parser.add_argument("--markdown", action="store_true", help="also print a table")
    parser.add_argument(
        "--show", action="store_true", help="list the statements of the last request of each"
    )
    args = parser.parse_args(argv)
    _setup_django()
    with patched_clients():
        summaries = measure(args.requests)
    for summary in summaries:
        print(summary.row())
        if args.show:
            print("\n".join(f"    {line}" for line in summary.tallies[-1].statements))
    if args.markdown:
        print("| request | n | SQL statements | Django | event store | of them tx control "
              "| Redis commands | in-process CPU ms (median) |")  # fmt: skip
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for summary in summaries:
            print(summary.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
