"""Clients for Kafka, OpenSearch and Redis, configured from settings in one place."""

from __future__ import annotations

import functools
import json
from typing import Any

import redis
import structlog
from django.conf import settings
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.serializer import Deserializer, Serializer
from opensearchpy import OpenSearch

log = structlog.get_logger("shopstream.clients")

Headers = list[tuple[str, bytes]]


class TextSerializer(Serializer):
    def serialize(self, topic: str, headers: Headers, value: str) -> bytes:
        return value.encode()


class JsonSerializer(Serializer):
    def serialize(self, topic: str, headers: Headers, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


class TextDeserializer(Deserializer):
    def deserialize(self, topic: str, headers: Headers, data: bytes | None) -> str | None:
        return data.decode() if data is not None else None


@functools.cache
def opensearch_client(timeout: float = 10.0, max_retries: int = 2) -> OpenSearch:
    """One client (and connection pool) per process and settings; it is thread-safe.

    The pool keeps a connection for each request thread: a smaller one makes threads
    open connections it then discards. A timeout is not retried (opensearch-py's
    default), so `timeout` bounds a stalled call.
    """
    return OpenSearch(
        hosts=[settings.OPENSEARCH_URL],
        timeout=timeout,
        max_retries=max_retries,
        pool_maxsize=settings.SERVER_THREADS,
    )


def search_client() -> OpenSearch:
    """The read API's client: a shopper waits SEARCH_TIMEOUT_SECONDS at most, then gets a 503.

    One retry covers a pooled connection the server has closed; a stall is not retried.
    """
    return opensearch_client(settings.SEARCH_TIMEOUT_SECONDS, max_retries=1)


def redis_client(timeout: float = 2.0) -> redis.Redis:
    """A client sharing one connection pool per process, URL and timeout."""
    return _redis(settings.REDIS_URL, timeout)


@functools.cache
def _redis(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def kafka_admin() -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, request_timeout_ms=10_000
    )


def kafka_producer() -> KafkaProducer:
    """Acknowledged by all replicas, one request in flight so retries keep per-key order."""
    return KafkaProducer(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
        acks="all",
        retries=10,
        max_in_flight_requests_per_connection=1,
        linger_ms=2,
        key_serializer=TextSerializer(),
        value_serializer=JsonSerializer(),
    )


def kafka_consumer(group_id: str | None, topics: list[str], **overrides: Any) -> KafkaConsumer:
    """A consumer-group member that commits offsets only when told to."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_interval_ms": settings.KAFKA_MAX_POLL_INTERVAL_MS,
        "session_timeout_ms": min(10_000, settings.KAFKA_MAX_POLL_INTERVAL_MS),
        "heartbeat_interval_ms": 1_000,
        # The broker holds an empty fetch this long: it bounds the idle-to-busy latency.
        "fetch_max_wait_ms": 50,
        "key_deserializer": TextDeserializer(),
        **overrides,
    }
    consumer = KafkaConsumer(**options)
    if topics:
        consumer.subscribe(topics)
    return consumer
