"""The outbox of cache generations to bump: written with the rows, flushed to Redis after commit.

A projector records keys inside its transaction; `flush` bumps them in Redis and only then
deletes them. If Redis is away the rows wait for the next flush, so a stall or a crash
between commit and bump never leaves a page stale until its TTL.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from projections.catalog.cache_keys import bump_many
from projections.models import PendingCacheBump

FLUSH_LIMIT = 500


def record(keys: Iterable[str]) -> None:
    """Within the caller's transaction: these generations must move once it commits."""
    PendingCacheBump.objects.bulk_create([PendingCacheBump(key=key) for key in sorted(set(keys))])


def flush(limit: int = FLUSH_LIMIT) -> int:
    """Bump up to `limit` recorded keys in Redis, then forget them; raise what Redis raised.

    Rows another flusher holds are waited for, not skipped: when this returns, every bump
    committed before it reached Redis (or it raised), so announcing a version after it is safe.
    """
    with transaction.atomic():
        rows = list(PendingCacheBump.objects.select_for_update().order_by("id")[:limit])
        if not rows:
            return 0
        bump_many(row.key for row in rows)
        PendingCacheBump.objects.filter(id__in=[row.id for row in rows]).delete()
    return len(rows)


def pending() -> int:
    return PendingCacheBump.objects.count()
