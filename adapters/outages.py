"""Which errors mean "a backing server is away or busy" (retry) rather than "this input is bad".

One place for the decision, so the projector loop, the index rebuild and the read side
agree: an outage is retried and never blamed on an event; anything else is the event's
(or the request's) own fault.
"""

from __future__ import annotations

import threading
import time

import django.db
import eventsourcing.persistence
import kombu.exceptions
import psycopg
import redis.exceptions
from kafka.errors import KafkaError
from opensearchpy import exceptions as opensearch


class OutageError(RuntimeError):
    """A server answered, but could not take the work now (e.g. bulk items refused with 429)."""


_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    django.db.OperationalError,
    django.db.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
    eventsourcing.persistence.ConnectionNotFromPoolError,
    eventsourcing.persistence.ConnectionPoolClosedError,
    opensearch.ConnectionError,  # ConnectionTimeout and SSLError derive from it
    kombu.exceptions.OperationalError,  # Celery's broker (Redis) is away
    KafkaError,
    ConnectionError,  # the built-in socket errors, under any client that lets them through
    TimeoutError,
    OutageError,
)
# Redis answers these while it cannot serve (a replica, loading, out of memory, failover).
_REDIS_NOT_READY = (
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.MasterDownError,
    redis.exceptions.OutOfMemoryError,
)


def is_outage(error: BaseException) -> bool:
    """True when `error` (or what it was raised from) says a backing server is away or busy."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if _is_outage_itself(current):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def _is_outage_itself(error: BaseException) -> bool:
    if isinstance(error, _OUTAGE_TYPES):
        return True
    if isinstance(error, redis.exceptions.RedisError):
        # A response error is Redis refusing this command; a data error is a bad argument.
        return isinstance(error, _REDIS_NOT_READY) or not isinstance(
            error, redis.exceptions.ResponseError | redis.exceptions.DataError
        )
    if isinstance(error, opensearch.TransportError):
        return opensearch_status_is_outage(error.status_code)
    return False


def opensearch_status_is_outage(status: object) -> bool:
    """No status (no answer), 429 (too busy) or 5xx; a 4xx is about the request or document."""
    if not isinstance(status, int):
        return True
    return status == 429 or status >= 500


# After a Redis error, this process goes without Redis for a moment wherever it can (token
# checks, throttles): one request waits for a stalled Redis, the next ones do not.
REDIS_PAUSE_SECONDS = 1.0
_redis_paused_until = 0.0
_pause_lock = threading.Lock()


def pause_redis() -> None:
    global _redis_paused_until
    with _pause_lock:
        _redis_paused_until = time.monotonic() + REDIS_PAUSE_SECONDS


def redis_paused() -> bool:
    return time.monotonic() < _redis_paused_until
