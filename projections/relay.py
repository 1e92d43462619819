"""The relay: follows the event store's notification log and publishes envelopes to Kafka.

It reads with the library's LISTEN/NOTIFY subscription, sends each envelope keyed
by aggregate id, flushes once per batch, waits for the broker's acknowledgement of
the whole batch, and only then records the batch's last position (one statement,
which also rings idle projectors: `projections.doorbell`). A crash between send and
record re-publishes that batch: delivery is at-least-once and projectors skip repeats.

The recorded position is the relay's only state an operator moves (`manage.py reset_relay`):
the relay records a batch's end only over the position it last recorded itself, and looks at
the checkpoint whenever it is idle, so a moved checkpoint restarts its reading from there
while it runs, instead of being overwritten by the next batch.

Each envelope is sent inside its command's trace context (`adapters.tracing.within`): the
kafka-python instrumentation's produce span is a child of the command's span and writes
its own `traceparent` header. Without that instrumentation (tracing off) the relay writes
the stored `traceparent` itself, so a consumer still finds the command's trace.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from django.db import connection
from eventsourcing.persistence import Notification

from adapters.tracing import KafkaHeaders, kafka_sends_traced, trace_headers, within
from projections import metrics
from projections.doorbell import published_channel, ring_payload
from projections.models import RelayCheckpoint
from write_api.published_events import EventLog, to_envelope, topic_name

log = structlog.get_logger("shopstream.relay")
SAVE_POSITION = (
    "INSERT INTO projections_relaycheckpoint (name, position, updated_at) VALUES (%s, %s, now())"
    " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()"
)
ADVANCE_POSITION_AND_RING = (
    "WITH saved AS ("
    "UPDATE projections_relaycheckpoint SET position = %s, updated_at = now()"
    " WHERE name = %s AND position = %s RETURNING 1) SELECT pg_notify(%s, %s) FROM saved"
)
# How long the idle loop blocks on its queue before it looks at the stop flag again.
IDLE_WAIT_SECONDS = 1.0


class Producer(Protocol):
    def send(
        self, topic: str, *, key: str, value: dict[str, Any], headers: KafkaHeaders
    ) -> Any: ...
    def flush(self, timeout: float | None = None) -> None: ...


def load_position(name: str) -> int:
    checkpoint, _ = RelayCheckpoint.objects.get_or_create(name=name)
    return checkpoint.position


def save_position(name: str, position: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(SAVE_POSITION, [name, position])


def advance_position(name: str, seen: int, position: int, ring: tuple[str, str]) -> bool:
    """Move the position from `seen` to `position` and send `ring` (channel, payload) with it;
    False, changing nothing, when the checkpoint is no longer at `seen` (moved by an operator).

    One statement commits on its own (or with the caller's transaction): the relay moves
    its position without a transaction per batch, and the notification leaves on commit.
    """
    with connection.cursor() as cursor:
        cursor.execute(ADVANCE_POSITION_AND_RING, [position, name, seen, *ring])
        return bool(cursor.fetchall())


class CheckpointMoved(Exception):
    """The relay's checkpoint is no longer where the relay left it: read again from there."""


# Given (checkpoint, store head) each time the relay starts reading; returns `on_published`.
Started = Callable[[int, int], Callable[[int], None] | None]


class Relay:
    """Moves notifications from the event store to Kafka, in log order, batch by batch."""

    def __init__(
        self,
        app: EventLog,
        producer: Producer,
        topic_prefix: str,
        batch_size: int = 500,
        on_published: Callable[[int], None] | None = None,
        on_start: Started | None = None,
    ) -> None:
        self.app = app
        self.on_published = on_published  # told each batch's last position (catch-up progress)
        self.on_start = on_start
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.name = f"{topic_prefix}relay"
        self.channel = published_channel(topic_prefix)
        self.position = 0  # the checkpoint as this relay last recorded or read it

    def run(self, stop: threading.Event) -> None:
        metrics.RELAY_STARTS.inc()
        while not stop.is_set():
            try:
                self._follow(stop)
            except CheckpointMoved:
                log.info("relay_checkpoint_moved", was=self.position)

    def _follow(self, stop: threading.Event) -> None:
        self.position = load_position(self.name)
        if self.on_start is not None:
            head = self.app.recorder.max_notification_id() or 0
            self.on_published = self.on_start(self.position, head)
        log.info("relay_started", position=self.position)
        pending: queue.Queue[Notification] = queue.Queue(maxsize=self.batch_size * 4)
        ended = threading.Event()
        with self.app.recorder.subscribe(gt=self.position) as subscription:
            reader = threading.Thread(
                target=_feed, args=(subscription, pending, ended), daemon=True, name="relay-reader"
            )
            reader.start()
            try:
                while not stop.is_set():
                    batch = _take_batch(pending, self.batch_size, wait=IDLE_WAIT_SECONDS)
                    if batch:
                        self.publish(batch)
                    elif not reader.is_alive():
                        raise RuntimeError("the event-store subscription ended unexpectedly")
                    # NOTIFY wakes the relay for new events only; a moved checkpoint is seen
                    # here, at most IDLE_WAIT_SECONDS late.
                    elif load_position(self.name) != self.position:
                        raise CheckpointMoved
            finally:
                ended.set()
                subscription.stop()

    def publish(self, notifications: list[Notification]) -> None:
        """Send the whole batch, flush once, and record its end only after every ack."""
        started = time.perf_counter()
        with metrics.RELAY_FAILURES.count_exceptions():  # counts, then re-raises
            recorded = self._publish(notifications)
        metrics.RELAY_BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.RELAY_BATCHES.inc()
        metrics.RELAY_EVENTS.inc(len(notifications))
        if not recorded:
            raise CheckpointMoved
        if self.on_published is not None:
            self.on_published(notifications[-1].id)

    def _publish(self, notifications: list[Notification]) -> bool:
        """Publish; False when the checkpoint was moved meanwhile (the batch's end not recorded)."""
        futures, latest = [], {}
        instrumented = kafka_sends_traced()  # it writes the header of each send itself
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            envelope = to_envelope(event, notification.id)
            topic = topic_name(self.topic_prefix, envelope["aggregate_type"])
            traceparent = envelope["traceparent"]
            headers = [] if instrumented or not traceparent else trace_headers(traceparent)
            with within(traceparent):
                future = self.producer.send(
                    topic, key=envelope["aggregate_id"], value=envelope, headers=headers
                )
            futures.append(future)
            latest[envelope["aggregate_type"]] = notification.id
        self.producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)  # raises if the broker did not acknowledge
        position = notifications[-1].id
        ring = (self.channel, ring_payload(latest))
        if not advance_position(self.name, self.position, position, ring):
            return False
        self.position = position
        log.info("relay_published", count=len(notifications), position=position)
        return True


def _feed(subscription: Any, pending: queue.Queue[Notification], ended: threading.Event) -> None:
    for notification in subscription:
        while not ended.is_set():
            try:
                pending.put(notification, timeout=0.2)
                break
            except queue.Full:
                continue
        if ended.is_set():
            return


def _take_batch(pending: queue.Queue[Notification], size: int, wait: float) -> list[Notification]:
    try:
        batch = [pending.get(timeout=wait)]
    except queue.Empty:
        return []
    while len(batch) < size:
        try:
            batch.append(pending.get_nowait())
        except queue.Empty:
            break
    return batch
