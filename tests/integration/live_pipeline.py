"""The relay and the catalog, shopping and audit projectors running in threads, as in production.

Each projector is a real consumer group on the real broker, writing the real read tables
and index. `wait_until_caught_up` returns once everything stored so far was published and
every group committed the end of every partition it reads: each message was then handled
(applied, or refused by the projector, which the caller's read-model checks reveal).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from kafka import KafkaConsumer, TopicPartition

from adapters.clients import kafka_admin, kafka_consumer, kafka_producer, opensearch_client
from projections.audit.projector import AuditProjector
from projections.catalog.projector import CatalogProjector
from projections.catalog.search_index import SearchIndex
from projections.consumer import ProjectionRunner, Projector
from projections.relay import Relay, load_position, save_position
from projections.shopping.projector import ShoppingProjector
from projections.topics import ensure_topics
from tests.support.pipeline import in_thread
from write_api.application import Shop


@dataclass
class LivePipeline:
    shop: Shop
    prefix: str
    index: SearchIndex
    start: int
    relay: Relay
    runners: list[ProjectionRunner]
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    checkers: dict[str, KafkaConsumer] = field(default_factory=dict)

    def wait_until_caught_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        head = self.shop.recorder.max_notification_id() or 0
        while load_position(self.relay.name) < head:
            assert time.monotonic() < deadline, "the relay did not publish everything in time"
            time.sleep(0.05)
        for runner in self.runners:
            while not self._group_at_end(runner):
                assert time.monotonic() < deadline, f"{runner.projector.name} did not catch up"
                time.sleep(0.05)
        self.index.refresh()

    def _group_at_end(self, runner: ProjectionRunner) -> bool:
        """The group committed the end offset of every partition of its topics."""
        checker = self.checkers.get(runner.checkpoint_name)
        if checker is None:
            checker = self.checkers[runner.checkpoint_name] = kafka_consumer(
                runner.checkpoint_name, []
            )
        partitions = [
            TopicPartition(topic, p)
            for topic in ProjectionRunner.topics(runner.projector, runner.prefix)
            for p in checker.partitions_for_topic(topic) or ()
        ]
        ends = checker.end_offsets(partitions)
        return all((checker.committed(p) or 0) >= end for p, end in ends.items())


@contextmanager
def live_pipeline(
    shop: Shop, namespace: str, more: Sequence[Projector] = ()
) -> Iterator[LivePipeline]:
    """Publish and project everything stored from now on (earlier events are not this test's).

    `more` projectors run besides the catalog, shopping and audit ones.
    """
    prefix = settings.TOPIC_PREFIX
    admin = kafka_admin()
    ensure_topics(admin, prefix, partitions=2)
    admin.close()
    index = SearchIndex(opensearch_client(), namespace)
    index.ensure()
    producer = kafka_producer()
    relay = Relay(shop, producer, prefix)
    start = shop.recorder.max_notification_id() or 0
    save_position(relay.name, start)
    projectors: list[Projector] = [
        CatalogProjector(index),
        ShoppingProjector(),
        AuditProjector(),
        *more,
    ]
    runners = [
        ProjectionRunner(
            p,
            kafka_consumer(f"{prefix}{p.name}", ProjectionRunner.topics(p, prefix)),
            prefix,
        )
        for p in projectors
    ]
    pipeline = LivePipeline(shop, prefix, index, start, relay, runners)
    for target in [relay.run, *(r.run for r in runners)]:
        thread = threading.Thread(target=in_thread, args=(target, pipeline.stop), daemon=True)
        thread.start()
        pipeline.threads.append(thread)
    try:
        yield pipeline
    finally:
        pipeline.stop.set()
        for thread in pipeline.threads:
            thread.join(timeout=15)
        for consumer in [*(r.consumer for r in runners), *pipeline.checkers.values()]:
            consumer.close()
        producer.close()
        for name in index.client.indices.get(index=f"{index.alias}_v*", ignore_unavailable=True):
            index.client.indices.delete(index=name)
