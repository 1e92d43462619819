"""The Kafka consumer loop shared by every projector.

Per partition batch, in one PostgreSQL transaction: skip envelopes at or below
the partition's checkpoint (re-deliveries), apply the rest, move the checkpoint.
Kafka offsets are committed after the transaction; they only save re-reading.

Nothing is lost and nothing is skipped silently:
- an outage of any backing server (`adapters.outages.is_outage`) rolls the batch
  back and retries it forever, with back-off capped below the poll interval so the
  member keeps its partitions;
- an event that still fails on its own merits after PROJECTION_MAX_ATTEMPTS tries,
  and a message that is no envelope, is parked in PostgreSQL in the transaction that
  moves the checkpoint (`projections.parking`); every later event of its aggregate
  parks behind it until an operator redrives or skips it (`manage.py parked`);
- cache generations to bump are recorded in an outbox with the rows and flushed to
  Redis after the commit (`projections.cache_outbox`), retried until Redis acks.
Read-your-writes announcements are best effort: a failure is logged, never raised.

Idle, the loop does not poll the broker: it waits on the relay's NOTIFY
(`projections.doorbell`), polling once every few seconds to stay in its group.

Each partition batch is processed in one consumer span linked to every message's trace
(`adapters.tracing.processing`); an envelope's `traceparent` is its message's header, so
per-event work (an email task) continues the trace that reached this projector.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from django import db
from django.conf import settings
from django.db import transaction
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from adapters.outages import is_outage
from adapters.tracing import header_traceparent, processing
from contracts.schemas import current_envelope
from projections import metrics, parking
from projections.cache_flusher import CacheFlusher
from projections.doorbell import Doorbell, published_channel
from projections.membership import BATCH
from projections.models import ProjectionCheckpoint
from write_api.published_events import ENVELOPE_KEYS, topic_name

log = structlog.get_logger("shopstream.projector")
FIRST_BACKOFF_SECONDS = 0.5
# Below the consumer's max poll interval, so a retrying member keeps its partitions.
MAX_BACKOFF_SECONDS = 2.0
# After a failed announcement, readers wait out their own bound for this long.
ANNOUNCE_QUIET_SECONDS = 5.0
# A poll for announced records returns as soon as they arrive; this bounds a wait in vain.
OWED_POLL_MS = 200
# Any other poll: long enough for a fetch or two, short enough not to poll an idle broker.
SHORT_POLL_MS = 10
# An idle projector waits on the relay's bell this long at most between two polls.
MAX_IDLE_SECONDS = 3.0

Envelope = dict[str, Any]


class Projector(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def aggregate_types(self) -> tuple[str, ...]: ...

    def apply(self, envelopes: list[Envelope]) -> None: ...


Announce = Callable[[list[tuple[str, int]]], None]


def announce_nothing(applied: list[tuple[str, int]]) -> None:
    """Default when no one waits for versions (tests of the loop itself)."""


def max_attempts() -> int:
    return max(1, int(getattr(settings, "PROJECTION_MAX_ATTEMPTS", 3)))


class ProjectionRunner:
    """Feeds one projector from its consumer group, exactly once in effect."""

    def __init__(
        self,
        projector: Projector,
        consumer: KafkaConsumer,
        prefix: str,
        announce: Announce = announce_nothing,
        doorbell: Doorbell | None = None,
    ) -> None:
        self.projector = projector
        self.consumer = consumer
        self.prefix = prefix
        self.announce = announce
        self.doorbell = doorbell or Doorbell(published_channel(prefix), projector.aggregate_types)
        self.checkpoint_name = f"{prefix}{projector.name}"
        self.cache = CacheFlusher()
        self._announce_quiet_until = 0.0
        self._drained = False  # the last poll returned nothing
        self._seen = 0  # the highest position read, to tell which rings are news

    @staticmethod
    def topics(projector: Projector, prefix: str) -> list[str]:
        return [topic_name(prefix, t) for t in projector.aggregate_types]

    def run(self, stop: threading.Event) -> None:
        try:
            self._loop(stop)
        finally:
            self.doorbell.close()

    def _loop(self, stop: threading.Event) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while not stop.is_set():
            self.cache.flush_when_due()
            timeout_ms = self._wait_for_work(stop)
            try:
                records = self.consumer.poll(timeout_ms=timeout_ms, max_records=BATCH)
            except KafkaError as error:
                log.warning("poll_retry", error=str(error), retry_in=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            self._drained = not records
            batches = list(records.items())
            for done, (partition, messages) in enumerate(batches):
                try:
                    self.handle(partition, messages)
                    backoff = FIRST_BACKOFF_SECONDS
                except Exception as error:
                    if not is_outage(error):
                        raise
                    log.warning("projection_retry", error=repr(error), retry_in=backoff)
                    metrics.PROJECTOR_FAILURES.labels(self.projector.name).inc()
                    metrics.PROJECTOR_RETRIES.labels(self.projector.name).inc()
                    db.connection.close()  # a broken connection reconnects on next use
                    for pending, unhandled in batches[done:]:
                        self._rewind(pending, unhandled[0].offset)
                    self._drained = False
                    self._back_off(stop, backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    break

    def _wait_for_work(self, stop: threading.Event) -> int:
        """Block on the relay's bell while there is nothing to read; the next poll's timeout.

        A ring that announced what we have not read yet makes the poll wait for it. After
        records, one short poll looks for more (a backlog, a batch not announced); only an
        empty one lets the loop wait for a ring, and a wait that runs out polls briefly: to
        stay in the group and to catch a missed ring. A member not in its group yet polls.
        """
        if self.doorbell.owes(self._seen) or not self.consumer.assignment():
            return OWED_POLL_MS
        if not self._drained:
            return SHORT_POLL_MS
        self.doorbell.wait(self._idle_seconds(), stop, self._seen)
        return OWED_POLL_MS if self.doorbell.owes(self._seen) else SHORT_POLL_MS

    def _idle_seconds(self) -> float:
        """Well within the max poll interval: the member must poll to keep its partitions."""
        interval: float = self.consumer.config.get("max_poll_interval_ms", 300_000) / 1000
        return min(MAX_IDLE_SECONDS, interval / 3)

    def _back_off(self, stop: threading.Event, seconds: float) -> None:
        """Wait, polling with every partition paused, so the member stays in its group."""
        deadline = time.monotonic() + seconds
        try:
            self.consumer.pause(*self.consumer.assignment())
            while not stop.is_set() and time.monotonic() < deadline:
                left = max(0.0, deadline - time.monotonic())
                late = self.consumer.poll(timeout_ms=int(min(left, 0.2) * 1000) or 1)
                # A partition assigned by a rebalance meanwhile is not paused: read it again later.
                for partition, messages in late.items():
                    self._rewind(partition, messages[0].offset)
        except KafkaError as error:
            log.warning("backoff_poll_failed", error=str(error))
            stop.wait(max(0.0, deadline - time.monotonic()))
        finally:
            self.consumer.resume(*self.consumer.paused())

    def handle(self, partition: TopicPartition, messages: list[Any]) -> None:
        headers = (m.headers for m in messages)
        with processing(partition.topic, self.checkpoint_name, headers):
            self._project(partition, messages)

    def _project(self, partition: TopicPartition, messages: list[Any]) -> None:
        started = time.perf_counter()
        key = f"{partition.topic}:{partition.partition}"
        with transaction.atomic():
            checkpoint, _ = ProjectionCheckpoint.objects.select_for_update().get_or_create(
                projector=self.checkpoint_name, partition=key
            )
            fresh = self._fresh(messages, checkpoint.position)
            applied = self._apply_or_park(fresh)
            if fresh:
                checkpoint.position = fresh[-1][1]["position"]
                checkpoint.save(update_fields=["position", "updated_at"])
        self._count_batch(len(messages), len(fresh), len(applied), time.perf_counter() - started)
        self._commit_offset(partition, messages[-1].offset + 1)
        if applied:
            # Bump before announcing: a reader woken by the announcement must miss the old cache.
            self.cache.recorded()
            self.cache.flush_when_due()
            self._announce([(e["aggregate_id"], e["version"]) for e in applied])
            log.info("projected", projector=self.projector.name, partition=key, count=len(applied))

    def _count_batch(self, delivered: int, fresh: int, applied: int, seconds: float) -> None:
        """Skipped: re-deliveries at or below the checkpoint, and unreadable (parked) messages."""
        name = self.projector.name
        metrics.PROJECTOR_BATCHES.labels(name).inc()
        metrics.PROJECTOR_BATCH_SECONDS.labels(name).observe(seconds)
        metrics.PROJECTOR_EVENTS.labels(name, "applied").inc(applied)
        metrics.PROJECTOR_EVENTS.labels(name, "parked").inc(fresh - applied)
        metrics.PROJECTOR_EVENTS.labels(name, "skipped").inc(delivered - fresh)

    def _fresh(self, messages: list[Any], position: int) -> list[tuple[Any, Envelope]]:
        """Envelopes past the checkpoint, in order; unreadable messages are parked here."""
        fresh = []
        for message in messages:
            envelope = self._parse(message)
            if envelope is None:
                continue
            self._seen = max(self._seen, envelope["position"])
            if envelope["position"] > position:
                fresh.append((message, envelope))
                position = envelope["position"]
        return fresh

    def _apply_or_park(self, fresh: list[tuple[Any, Envelope]]) -> list[Envelope]:
        """Apply the batch at once; if it fails on data, go one by one and park the culprits.

        Events of an aggregate that already has a parked event park behind it, untried.
        Returns the envelopes applied (parked ones are not).
        """
        if not fresh:
            return []
        name = self.projector.name
        held = parking.held_aggregates(name, (e["aggregate_id"] for _, e in fresh))
        if held:
            # Wait for a redrive of these aggregates, then see what is still parked.
            parking.lock_aggregates(name, held)
            held = parking.held_aggregates(name, held)
        flowing = []
        for message, envelope in fresh:
            if envelope["aggregate_id"] in held:
                parking.park_behind(name, envelope, _source(message))
            else:
                flowing.append((message, envelope))
        envelopes = [envelope for _, envelope in flowing]
        if not envelopes:
            return []
        try:
            with transaction.atomic():
                self.projector.apply(envelopes)
            return envelopes
        except Exception as error:
            if is_outage(error):
                raise
            log.warning("projection_batch_failed_isolating", count=len(envelopes))
            metrics.PROJECTOR_FAILURES.labels(name).inc()
        return self._apply_one_by_one(flowing)

    def _apply_one_by_one(self, flowing: list[tuple[Any, Envelope]]) -> list[Envelope]:
        name, held, applied = self.projector.name, set(), []
        for message, envelope in flowing:
            if envelope["aggregate_id"] in held:
                parking.park_behind(name, envelope, _source(message))
                continue
            error = self._attempt(envelope)
            if error is None:
                applied.append(envelope)
                continue
            parked = parking.park(
                name, envelope, repr(error), attempts=max_attempts(), source=_source(message)
            )
            held.add(envelope["aggregate_id"])
            log.error(
                "event_parked",
                projector=name,
                parked_id=parked.pk,
                aggregate_id=envelope["aggregate_id"],
                position=envelope["position"],
                error=repr(error),
            )
        return applied

    def _attempt(self, envelope: Envelope) -> Exception | None:
        """Apply one envelope up to PROJECTION_MAX_ATTEMPTS times; the last error, or None."""
        last: Exception | None = None
        for attempt in range(max_attempts()):
            if attempt:
                metrics.PROJECTOR_RETRIES.labels(self.projector.name).inc()
            try:
                with transaction.atomic():
                    self.projector.apply([envelope])
                return None
            except Exception as error:
                if is_outage(error):
                    raise
                last = error
        return last

    def _parse(self, message: Any) -> Envelope | None:
        try:
            envelope: Envelope = json.loads(message.value)
            missing = ENVELOPE_KEYS - set(envelope)
            if missing:
                raise ValueError(f"envelope lacks {sorted(missing)}")
            if not isinstance(envelope["position"], int) or isinstance(envelope["position"], bool):
                raise ValueError("envelope position is not an integer")
            envelope["aggregate_id"] = str(envelope["aggregate_id"])
            traceparent = header_traceparent(message.headers)
            if traceparent is not None:  # the relay's produce span: the command's trace
                envelope["traceparent"] = traceparent
            # An older relay's envelope (a lower schema) reads as today's, for every projector.
            return current_envelope(envelope)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raw = (
                message.value.decode(errors="replace")
                if isinstance(message.value, bytes)
                else str(message.value)
            )
            parked = parking.park_unreadable(
                self.projector.name,
                str(message.key or ""),
                raw,
                f"unreadable envelope: {error}",
                _source(message),
            )
            log.error("unreadable_parked", projector=self.projector.name, parked_id=parked.pk)
            return None

    def _announce(self, applied: list[tuple[str, int]]) -> None:
        """Best effort: a reader that misses it only waits out its bound and answers stale."""
        if time.monotonic() < self._announce_quiet_until:
            return
        try:
            self.announce(applied)
        except Exception as error:  # noqa: BLE001 - announcing must never stop projection
            self._announce_quiet_until = time.monotonic() + ANNOUNCE_QUIET_SECONDS
            log.warning("version_announce_failed", error=repr(error))

    def _rewind(self, partition: TopicPartition, offset: int) -> None:
        """Read the batch again; if the partition moved to another member, it reads it."""
        try:
            self.consumer.seek(partition, offset)
        except (KafkaError, AssertionError, ValueError) as error:
            log.warning("rewind_skipped", partition=str(partition), error=str(error))

    def _commit_offset(self, partition: TopicPartition, offset: int) -> None:
        """Only saves re-reading: the checkpoint committed with the rows is what counts.

        A member that was rebalanced out (slow batch, busy machine) cannot commit; it
        rejoins on its next poll, and whatever is delivered again is skipped.
        """
        try:
            self.consumer.commit({partition: OffsetAndMetadata(offset, "", -1)})
        except KafkaError as error:
            log.warning("offset_commit_skipped", partition=str(partition), error=str(error))


def _source(message: Any) -> str:
    return f"{message.topic}:{message.partition}@{message.offset}"
