"""The Kafka consumer loop shared by every projector.

Per partition batch, in one PostgreSQL transaction: skip envelopes at or below
the partition's checkpoint (re-deliveries), apply the rest, move the checkpoint.
Kafka offsets are committed after the transaction; they only save re-reading.
A message that cannot be processed goes to the dead-letter topic with its error;
an unavailable server is retried with back-off and nothing is skipped.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from django import db
from django.db import InterfaceError, OperationalError, transaction
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from projections.catalog.search_index import RetryableIndexError
from projections.models import ProjectionCheckpoint
from write_api.published_events import ENVELOPE_KEYS, dead_letter_topic, topic_name

log = structlog.get_logger("shopstream.projector")
# A server that is down or busy: retry the same batch. Anything else is the message's
# fault (bad data, a broken invariant) and goes to the dead-letter topic.
RETRYABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RetryableIndexError,
    ConnectionError,
)
# Below the consumer's max poll interval, so a retrying member keeps its partitions.
MAX_BACKOFF_SECONDS = 2.0
# Small enough that a batch finishes well within the poll interval on a busy machine.
BATCH = 200


class Projector(Protocol):
    name: str
    aggregate_types: tuple[str, ...]

    def apply(self, envelopes: list[dict[str, Any]]) -> None: ...


class DeadLetters(Protocol):
    def send(self, topic: str, *, key: str, value: dict[str, Any]) -> Any: ...
    def flush(self, timeout: float | None = None) -> None: ...


Announce = Callable[[list[tuple[str, int]]], None]


def announce_nothing(applied: list[tuple[str, int]]) -> None:
    """Default when no one waits for versions (tests of the loop itself)."""


class ProjectionRunner:
    """Feeds one projector from its consumer group, exactly once in effect."""

    def __init__(
        self,
        projector: Projector,
        consumer: KafkaConsumer,
        dead_letters: DeadLetters,
        prefix: str,
        announce: Announce = announce_nothing,
    ) -> None:
        self.projector = projector
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.prefix = prefix
        self.announce = announce
        self.checkpoint_name = f"{prefix}{projector.name}"

    @staticmethod
    def topics(projector: Projector, prefix: str) -> list[str]:
        return [topic_name(prefix, t) for t in projector.aggregate_types]

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            records = self.consumer.poll(timeout_ms=200, max_records=BATCH)
            for partition, messages in records.items():
                try:
                    self.handle(partition, messages)
                    backoff = 0.5
                except RETRYABLE as error:
                    log.warning("projection_retry", error=str(error), retry_in=backoff)
                    db.connection.close()  # a broken connection reconnects on next use
                    self._rewind(partition, messages[0].offset)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def handle(self, partition: TopicPartition, messages: list[Any]) -> None:
        key = f"{partition.topic}:{partition.partition}"
        with transaction.atomic():
            checkpoint, _ = ProjectionCheckpoint.objects.select_for_update().get_or_create(
                projector=self.checkpoint_name, partition=key
            )
            fresh = self._fresh(messages, checkpoint.position)
            applied = self._apply_each_or_dead_letter(fresh)
            if fresh:
                checkpoint.position = fresh[-1][1]["position"]
                checkpoint.save(update_fields=["position", "updated_at"])
        self._commit_offset(partition, messages[-1].offset + 1)
        if fresh:
            self.announce([(e["aggregate_id"], e["version"]) for _, e in fresh])
        if applied:
            log.info("projected", projector=self.projector.name, partition=key, count=applied)

    def _rewind(self, partition: TopicPartition, offset: int) -> None:
        """Read the batch again; if the partition moved to another member, it reads it."""
        try:
            self.consumer.seek(partition, offset)
        except KafkaError as error:
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

    def _fresh(self, messages: list[Any], position: int) -> list[tuple[Any, dict[str, Any]]]:
        fresh = []
        for message in messages:
            envelope = self._parse(message)
            if envelope is None:
                continue
            if envelope["position"] > position:
                fresh.append((message, envelope))
                position = envelope["position"]
        return fresh

    def _apply_each_or_dead_letter(self, fresh: list[tuple[Any, dict[str, Any]]]) -> int:
        """Apply the batch at once; if it fails on data, apply one by one to isolate the bad one."""
        envelopes = [envelope for _, envelope in fresh]
        try:
            with transaction.atomic():
                self.projector.apply(envelopes)
            return len(envelopes)
        except RETRYABLE:
            raise
        except Exception:  # noqa: BLE001 - find the culprit below
            log.warning("projection_batch_failed_isolating", count=len(envelopes))
        applied = 0
        for message, envelope in fresh:
            try:
                with transaction.atomic():
                    self.projector.apply([envelope])
                applied += 1
            except RETRYABLE:
                raise
            except Exception as error:  # noqa: BLE001 - a poison message must not stop the stream
                self._dead_letter(message, repr(error))
        return applied

    def _parse(self, message: Any) -> dict[str, Any] | None:
        try:
            envelope = json.loads(message.value)
            missing = ENVELOPE_KEYS - set(envelope)
            if missing:
                raise ValueError(f"envelope lacks {sorted(missing)}")
            return envelope
        except (ValueError, TypeError) as error:
            self._dead_letter(message, f"unreadable envelope: {error}")
            return None

    def _dead_letter(self, message: Any, error: str) -> None:
        log.error("dead_letter", projector=self.projector.name, offset=message.offset, error=error)
        value = (
            message.value.decode(errors="replace")
            if isinstance(message.value, bytes)
            else message.value
        )
        self.dead_letters.send(
            dead_letter_topic(self.prefix),
            key=str(message.key or ""),
            value={
                "projector": self.projector.name,
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "error": error,
                "failed_at": time.time(),
                "message": value,
            },
        )
        self.dead_letters.flush(timeout=30)
