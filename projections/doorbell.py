"""How the relay wakes idle projectors: a PostgreSQL NOTIFY after each acknowledged batch.

The relay rings with the highest position it published per aggregate type; a projector
that has read nothing lately waits on the bell (LISTEN) instead of polling Kafka, and
polls again once a ring names one of its aggregate types, or when its wait runs out. The
bell is only a shortcut: a missed ring costs one wait (the loop polls after each one), and
while PostgreSQL is away the bell is a plain timer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from psycopg import sql

from adapters.outages import is_outage

log = structlog.get_logger("shopstream.projector")
# A ring is owed this long at most: if what it announced never shows up (a message that
# is no envelope, a broker that lost it), the projector goes back to waiting.
OWED_SECONDS = 1.0


def published_channel(prefix: str) -> str:
    """The notification channel of one deployment's relay."""
    return f"{prefix}published"


def ring_payload(positions: Mapping[str, int]) -> str:
    """What the relay announces: the highest position it published, per aggregate type."""
    return json.dumps(dict(positions), separators=(",", ":"))


class Doorbell:
    """LISTENs on the relay's channel on a connection of its own (opened on first wait)."""

    def __init__(self, channel: str, aggregate_types: Iterable[str]) -> None:
        self.channel = channel
        self.aggregate_types = frozenset(aggregate_types)
        self._wrapper: Any = None
        self.announced = 0  # the highest position a ring announced for our aggregate types
        self._owed_until = 0.0

    def owes(self, seen: int) -> bool:
        """A ring announced a position beyond `seen`, lately: it should arrive any moment."""
        return self.announced > seen and time.monotonic() < self._owed_until

    def wait(self, timeout: float, stop: threading.Event, seen: int) -> None:
        """Until a ring announces one of our aggregate types beyond `seen`, or `timeout`.

        Rings for what the projector has already read are passed over; `stop` is checked
        at least every second.
        """
        deadline = time.monotonic() + timeout
        try:
            listening = self._listening()
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                for notify in listening.notifies(timeout=min(left, 1.0), stop_after=1):
                    if self._rung(notify.payload) and self.owes(seen):
                        return
        except Exception as error:
            # An unreachable database makes the bell a timer (the projector still polls);
            # anything else is a bug and stops the projector like any other.
            if not is_outage(error):
                raise
            log.warning("doorbell_failed", error=repr(error))
            self.close()
            stop.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        wrapper, self._wrapper = self._wrapper, None
        if wrapper is not None:
            try:
                wrapper.close()
            except DatabaseError as error:  # closing a dead connection
                log.warning("doorbell_close_failed", error=repr(error))

    def _listening(self) -> Any:
        if self._wrapper is None:
            wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
            wrapper.ensure_connection()
            wrapper.connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self._wrapper = wrapper
        return self._wrapper.connection

    def _rung(self, payload: str) -> bool:
        """Note what a ring announces for our aggregate types; False if nothing."""
        try:
            positions = json.loads(payload)
            mine = [int(p) for t, p in positions.items() if t in self.aggregate_types]
        except (ValueError, TypeError, AttributeError):
            mine = [2**63 - 1]  # a ring we cannot read: look rather than miss something
        if not mine:
            return False
        self.announced = max(self.announced, *mine)
        self._owed_until = time.monotonic() + OWED_SECONDS
        return True
