"""Kafka topics of the pipeline, and recovery when a broker has lost what was published."""

from __future__ import annotations

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from projections.models import RelayCheckpoint
from write_api.published_events import AGGREGATE_TYPES, topic_name

log = structlog.get_logger("shopstream.topics")


def pipeline_topics(prefix: str) -> list[str]:
    """One topic per aggregate type; events that cannot be applied are parked in PostgreSQL."""
    return [topic_name(prefix, t) for t in AGGREGATE_TYPES]


def ensure_topics(admin: KafkaAdminClient, prefix: str, partitions: int) -> list[str]:
    """Create the pipeline's missing topics; return the ones created."""
    existing = set(admin.list_topics())
    missing = [t for t in pipeline_topics(prefix) if t not in existing]
    if missing:
        admin.create_topics(
            [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
        )
    return missing


def topic_is_empty(consumer: KafkaConsumer, topic: str) -> bool:
    partitions = consumer.partitions_for_topic(topic) or set()
    ends = consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
    return not any(ends.values())


def republish_if_broker_lost_events(consumer: KafkaConsumer, prefix: str) -> bool:
    """A fresh or wiped broker holds none of what the relay recorded as sent: send it all again."""
    checkpoint = RelayCheckpoint.objects.filter(name=f"{prefix}relay", position__gt=0).first()
    if checkpoint is None:
        return False
    if not all(topic_is_empty(consumer, topic_name(prefix, t)) for t in AGGREGATE_TYPES):
        return False
    log.warning("broker_lost_events", relay_position=checkpoint.position, action="republish_all")
    checkpoint.position = 0
    checkpoint.save(update_fields=["position", "updated_at"])
    return True
