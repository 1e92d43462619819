"""Flushes the cache-bump outbox from the projector loop; an outage never stops the loop.

Flushes right after a commit that recorded bumps, and every few seconds regardless (a
redrive or another process may have recorded some). While Redis (or PostgreSQL) is away,
attempts back off, so a stalled Redis costs the loop at most one socket timeout now and
then, well within the consumer's poll interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from django import db

from adapters.outages import is_outage
from projections import cache_outbox

log = structlog.get_logger("shopstream.projector")
IDLE_CHECK_SECONDS = 5.0
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 5.0


class CacheFlusher:
    """When to flush the outbox, and what a failed flush means for the next try."""

    def __init__(self, flush: Callable[[], int] = cache_outbox.flush) -> None:
        self._flush = flush
        self._dirty = True  # leftovers of a crash or of a Redis stall before a restart
        self._last_try = float("-inf")
        self._not_before = 0.0
        self._backoff = FIRST_BACKOFF_SECONDS
        self.failures = 0  # in a row, for logs and tests

    def recorded(self) -> None:
        """A commit may have recorded bumps: flush at the next chance."""
        self._dirty = True

    def flush_when_due(self) -> None:
        now = time.monotonic()
        if now < self._not_before:
            return
        if not self._dirty and now - self._last_try < IDLE_CHECK_SECONDS:
            return
        self._last_try = now
        try:
            flushed = self._flush()
        except Exception as error:
            if not is_outage(error):
                raise  # a bug, not a server away: the projector stops and says so
            self._failed(error)
            return
        self._dirty = flushed >= cache_outbox.FLUSH_LIMIT
        self.failures = 0
        self._backoff = FIRST_BACKOFF_SECONDS
        self._not_before = 0.0

    def _failed(self, error: Exception) -> None:
        """An outage: the bumps wait in the outbox, tried again after a back-off."""
        self.failures += 1
        log.warning("cache_bump_flush_failed", error=repr(error), retry_in=self._backoff)
        db.connection.close()  # if it was PostgreSQL, reconnect on next use
        self._not_before = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)
        self._dirty = True
