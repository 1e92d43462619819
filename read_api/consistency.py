"""Read-your-writes: `X-Min-Version: <aggregate id>:<version>` waits (bounded) for the projection.

Projectors publish on `<namespace>:projected:<aggregate id>` after each commit; a
waiting request subscribes, checks the read model once, and checks again only when
told that the aggregate moved: no polling loop against the database. Without Redis
the wait cannot be told anything: it checks once more and answers (stale if behind).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import redis
import structlog
from rest_framework import serializers
from rest_framework.request import Request

from projections.progress import projected_channel

HEADER = "X-Min-Version"
MAX_WAIT_SECONDS = 2.0
log = structlog.get_logger("shopstream.consistency")
_FORMAT = re.compile(r"^([0-9a-fA-F-]{36}):(\d{1,9})$")


@dataclass(frozen=True)
class MinVersion:
    aggregate_id: UUID
    version: int


def requested_min_version(request: Request) -> MinVersion | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    match = _FORMAT.match(raw.strip())
    try:
        if match is None:
            raise ValueError(raw)
        return MinVersion(UUID(match.group(1)), int(match.group(2)))
    except ValueError:
        raise serializers.ValidationError(
            {HEADER: ["Expected <aggregate id>:<version>, e.g. 3f2c…:4."]}
        ) from None


def wait_for_version(
    client: redis.Redis,
    namespace: str,
    wanted: MinVersion,
    current: Callable[[], int | None],
    timeout: float = MAX_WAIT_SECONDS,
) -> bool:
    """True once `current()` reaches the wanted version, False if `timeout` passes first
    (or Redis fails before it is reached)."""
    if (current() or 0) >= wanted.version:
        return True
    try:
        return _wait_for_announcement(client, namespace, wanted, current, timeout)
    except redis.RedisError as error:
        log.warning("version_wait_unavailable", error=repr(error))
        return (current() or 0) >= wanted.version


def _wait_for_announcement(
    client: redis.Redis,
    namespace: str,
    wanted: MinVersion,
    current: Callable[[], int | None],
    timeout: float,
) -> bool:
    deadline = time.monotonic() + timeout
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(projected_channel(namespace, str(wanted.aggregate_id)))
        if (current() or 0) >= wanted.version:  # applied while we subscribed
            return True
        while (left := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=left)
            # Every projector of the aggregate announces; only ours brings the row.
            moved = message is not None and int(message["data"]) >= wanted.version
            if moved and (current() or 0) >= wanted.version:
                return True
        return False
    finally:
        pubsub.close()
