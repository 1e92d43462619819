"""The outbox of cache generations to bump: written with the rows, flushed to Redis after commit.

A projector records keys inside its transaction; `flush` bumps them in Redis and only then
deletes them. If Redis is away the rows wait for the next flush, so a stall or a crash
between commit and bump never leaves a page stale until its TTL.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from projections.catalog.cache_keys import bump_many
from projections.models import PendingCacheBump

FLUSH_LIMIT = 500
TAKE_OLDEST = (
    "DELETE FROM projections_pendingcachebump WHERE id IN ("
    "SELECT id FROM projections_pendingcachebump ORDER BY id LIMIT %s FOR UPDATE) RETURNING key"
)


def record(keys: Iterable[str]) -> None:
    """Within the caller's transaction: these generations must move once it commits."""
    PendingCacheBump.objects.bulk_create([PendingCacheBump(key=key) for key in sorted(set(keys))])


def flush(limit: int = FLUSH_LIMIT) -> int:
    """Bump up to `limit` recorded keys in Redis, then forget them; raise what Redis raised.

    Rows another flusher holds are waited for, not skipped: when this returns, every bump
    committed before it reached Redis (or it raised), so announcing a version after it is safe.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # Taken in one statement; they come back if Redis fails (the transaction rolls back).
        cursor.execute(TAKE_OLDEST, [limit])
        keys = [key for (key,) in cursor.fetchall()]
        if keys:
            bump_many(keys)
    return len(keys)


def pending() -> int:
    return PendingCacheBump.objects.count()
