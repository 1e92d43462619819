"""Helpers for tests that run the pipeline's loops against the real local servers."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from django import db
from django.conf import settings
from kafka import KafkaConsumer, TopicPartition

from projections.relay import Relay, load_position


def read_topic(topic: str, expected: int, timeout: float = 15.0) -> list[Any]:
    """Every record of `topic` from the start, once at least `expected` have arrived."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, enable_auto_commit=False
    )
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] = set()
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic) or set()
            time.sleep(0.05)
        assignment = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assignment)
        consumer.seek_to_beginning(*assignment)
        records: list[Any] = []
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def envelopes(records: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def in_thread(target: Any, *args: Any) -> None:
    """Run `target` and close the thread's Django connections, so test databases can be dropped."""
    try:
        target(*args)
    finally:
        db.connections.close_all()


@contextlib.contextmanager
def in_background(
    target: Callable[[threading.Event], None], join_timeout: float = 15
) -> Iterator[threading.Thread]:
    """`target(stop)` in a thread for the block (a relay, as the stack runs it), then stopped."""
    stop = threading.Event()
    thread = threading.Thread(target=in_thread, args=(target, stop), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=join_timeout)


def run_until(target: Any, done: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Run `target(stop)` in a thread until `done()` holds or `timeout` passes; True if done."""
    with in_background(target):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.05)
        return done()


def run_relay_until(relay: Relay, position: int | None, timeout: float = 15.0) -> None:
    assert run_until(relay.run, lambda: load_position(relay.name) >= (position or 0), timeout)
