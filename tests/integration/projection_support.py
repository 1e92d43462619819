"""Running a projector across phases of a test, and crafting envelopes an older release sent."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

from kafka.partitioner.default import murmur2

from projections.consumer import ProjectionRunner
from tests.support.pipeline import in_thread
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.domain.product import Product

# Stores a product past today's checks, as an older release did (a fixture in conftest.py).
OlderReleaseProducts = Callable[[str, int], UUID]
# Beyond PostgreSQL's bigint and OpenSearch's long: no read model can ever hold it.
UNSTORABLE_STOCK = 2**63


@contextlib.contextmanager
def running(runner: ProjectionRunner) -> Iterator[threading.Thread]:
    """The runner's loop in a thread for the block; it is stopped and its consumer closed."""
    stop = threading.Event()
    thread = threading.Thread(target=in_thread, args=(runner.run, stop), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=15)
        runner.consumer.close()


def closed_port() -> int:
    """A local port nothing listens on (a server that is away)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def partition_of(key: str, partitions: int) -> int:
    """The partition kafka-python's default partitioner picks for a key."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def key_on_other_partition(key: str, partitions: int) -> str:
    """An aggregate id whose events land on another partition than `key`'s."""
    while True:
        candidate = str(uuid.uuid4())
        if partition_of(candidate, partitions) != partition_of(key, partitions):
            return candidate


def product_envelope(
    product_id: str, version: int, position: int, kind: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "position": position,
        "aggregate_type": "Product",
        "aggregate_id": product_id,
        "version": version,
        "type": kind,
        "schema": 1,
        "occurred_at": "2026-01-02T03:04:05+00:00",
        "actor": {"id": None, "role": "system"},
        "request_id": None,
        "correlation_id": None,
        "causation_id": None,
        "data": data,
    }


def created_data(name: str, stock: int) -> dict[str, Any]:
    return {
        "name": name,
        "description": "",
        "price": "3.00",
        "category_id": None,
        "seller_id": None,
        "stock": stock,
    }


def store_product_as_an_older_release(shop: Shop, name: str, stock: int) -> UUID:
    """Store a product past today's checks (the constructor is what an old release called)."""
    product = Product(
        name=name,
        description="",
        price=Decimal("3.00"),
        category_id=None,
        stock=stock,
        seller_id=None,
        metadata=CommandContext(actor_role="system").as_event_metadata(),
    )
    shop.save(product)
    return product.id
