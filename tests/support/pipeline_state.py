"""Where the pipeline of a running stack stands: lag and parked events.

A projector has caught up when, for every partition of every topic it reads, its
checkpoint holds the position of the last envelope published there, and the relay
has published up to the head of the event store.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from kafka import KafkaConsumer, TopicPartition

from projections.audit.projector import AuditProjector
from projections.catalog.projector import CatalogProjector
from projections.notifications.projector import NotificationsProjector
from projections.shopping.projector import ShoppingProjector
from write_api.application import Shop
from write_api.published_events import topic_name

PROJECTORS = (CatalogProjector, ShoppingProjector, AuditProjector, NotificationsProjector)
# The durable table of events a projector could not apply (issue 8: parked, never skipped).
PARKED_TABLE = "projections_parkedevent"


class Stack(Protocol):
    @property
    def kafka_servers(self) -> str: ...

    @property
    def topic_prefix(self) -> str: ...

    def shop(self) -> Shop: ...

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]: ...


def lag(stack: Stack) -> dict[str, str]:
    """What has not reached its projector yet; empty when every projector has caught up."""
    shop = stack.shop()
    try:
        head = shop.recorder.max_notification_id() or 0
    finally:
        shop.close()
    relay = relay_position(stack)
    if relay < head:
        return {"relay": f"at {relay}, event store head {head}"}
    behind: dict[str, str] = {}
    published = last_published(stack)
    checkpoints = projector_checkpoints(stack)
    for projector in PROJECTORS:
        for aggregate_type in projector.aggregate_types:
            topic = topic_name(stack.topic_prefix, aggregate_type)
            for (name, partition), position in published.items():
                if name != topic:
                    continue
                key = f"{topic}:{partition}"
                applied = checkpoints.get((projector.name, key), 0)
                if applied < position:
                    behind[f"{projector.name} {key}"] = f"at {applied}, published {position}"
    return behind


def wait_until_caught_up(stack: Stack, timeout: float) -> dict[str, str]:
    """Poll until nothing lags or `timeout` passes; return what still lags (for the assert)."""
    deadline = time.monotonic() + timeout
    behind = lag(stack)
    while behind and time.monotonic() < deadline:
        time.sleep(1)
        behind = lag(stack)
    return behind


def relay_position(stack: Stack) -> int:
    rows = stack.sql(
        "SELECT position FROM projections_relaycheckpoint WHERE name = %s",
        f"{stack.topic_prefix}relay",
    )
    return rows[0][0] if rows else 0


def projector_checkpoints(stack: Stack) -> dict[tuple[str, str], int]:
    prefix = stack.topic_prefix
    return {
        (projector.removeprefix(prefix), partition): position
        for projector, partition, position in stack.sql(
            "SELECT projector, partition, position FROM projections_projectioncheckpoint "
            "WHERE projector LIKE %s",
            f"{prefix}%",
        )
    }


def last_published(stack: Stack) -> dict[tuple[str, int], int]:
    """The position of the last envelope in each partition of the pipeline's topics."""
    topics = {
        topic_name(stack.topic_prefix, t)
        for projector in PROJECTORS
        for t in projector.aggregate_types
    }
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_servers, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in sorted(topics)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions)
        return {
            (tp.topic, tp.partition): json.loads(message.value)["position"]
            for tp, message in last_messages(consumer, ends).items()
        }
    finally:
        consumer.close()


def parked_events(stack: Stack, since: int = 0) -> list[tuple[Any, ...]]:
    """Rows of the parked-event table still parked (issue 8, item 2); where the table
    records the event's position, only events after `since`."""
    columns = [
        name
        for (name,) in stack.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            PARKED_TABLE,
        )
    ]
    if "position" in columns:
        return stack.sql(
            f"SELECT * FROM {PARKED_TABLE} WHERE status = %s AND position > %s",  # noqa: S608
            "parked",
            since,
        )
    return stack.sql(f"SELECT * FROM {PARKED_TABLE} WHERE status = %s", "parked")  # noqa: S608


def last_messages(consumer: KafkaConsumer, ends: dict[TopicPartition, int]) -> dict[Any, Any]:
    wanted = {tp: end for tp, end in ends.items() if end}
    consumer.assign(list(wanted))
    for tp, end in wanted.items():
        consumer.seek(tp, end - 1)
    last: dict[Any, Any] = {}
    for message in read_until(consumer, wanted):
        last[TopicPartition(message.topic, message.partition)] = message
    return last


def read_until(consumer: KafkaConsumer, ends: dict[TopicPartition, int]) -> list[Any]:
    """Messages of the assigned partitions up to the offsets in `ends` (bounded wait)."""
    remaining = {tp: end for tp, end in ends.items() if end}
    messages: list[Any] = []
    deadline = time.monotonic() + 30
    while remaining and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            messages.extend(records)
            if records[-1].offset + 1 >= remaining.get(tp, 0):
                remaining.pop(tp, None)
    if remaining:
        raise TimeoutError(f"could not read partitions up to their ends: {remaining}")
    return messages
