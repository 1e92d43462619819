"""Each user's access-token version, kept in Redis so that a request checks it in one round trip.

The database's `token_version` is the truth; Redis holds a copy per user that only ever
moves up (a Lua script keeps the larger value), so a late write of an older version can
never undo a revocation. Writers publish the new version before their change commits and
fail if Redis cannot take it: every process then refuses older tokens from the next
request on. Readers treat "no copy" and "Redis away" alike: they ask the database, which
is slower but as exact; after a Redis error a process goes without Redis for a moment
(adapters.outages.pause_redis) rather than making every request wait for it.

Limitation: Redis restored from a snapshot older than a revocation would bring an old
version back; flush these keys (`<namespace>:token-version:*`) after such a restore.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import structlog
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from adapters.outages import pause_redis, redis_paused

log = structlog.get_logger("shopstream.auth")

# A copy not refreshed for this long expires; the next request rebuilds it from the database.
KEPT_FOR = timedelta(hours=1)
# Never issued: marks the tokens of a deleted user as revoked.
GONE = 2**62

_RAISE_TO = """
local kept = tonumber(redis.call('GET', KEYS[1]))
local wanted = tonumber(ARGV[1])
if kept ~= nil and kept >= wanted then
  return kept
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return wanted
"""


def key(user_id: UUID) -> str:
    return f"{settings.SHOPSTREAM_NAMESPACE}:token-version:{user_id}"


def current(user_id: UUID) -> int | None:
    """The version Redis holds for the user; None when it holds none or cannot answer now."""
    if redis_paused():
        return None
    try:
        value = get_redis_connection("best_effort").get(key(user_id))
    except RedisError as error:
        _skip_redis(error)
        return None
    return None if value is None else int(value)


def remember(user_id: UUID, version: int) -> None:
    """Best effort: copy the database's version to Redis (never lowering what it holds)."""
    if redis_paused():
        return
    try:
        _raise_to("best_effort", user_id, version)
    except RedisError as error:
        _skip_redis(error)


def publish(user_id: UUID, version: int) -> None:
    """Make `version` the oldest one accepted, in every process; raises if Redis cannot take it."""
    _raise_to("default", user_id, version)


def _raise_to(alias: str, user_id: UUID, version: int) -> None:
    client = get_redis_connection(alias)
    client.register_script(_RAISE_TO)(
        keys=[key(user_id)], args=[version, int(KEPT_FOR.total_seconds())]
    )


def _skip_redis(error: RedisError) -> None:
    pause_redis()
    log.warning("token_versions_unavailable", error=repr(error))
