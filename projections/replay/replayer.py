"""Replay one projector from the event store into a new generation of its read tables.

1. Build: every stored event of the projector's aggregates, read from the store in pages
   (not from Kafka), goes through the projector's own `apply` in batches, one transaction
   each, into the generation (`projections.replay.generation`). The live tables keep
   serving, and the live projector keeps writing them.
2. Catch up, then switch, in one transaction: the projector's checkpoint rows are locked
   (the live runner takes its row first in every batch, so it pauses), the events stored
   since are applied up to the store's head G, every checkpoint row moves to at least G
   (the live runner then skips what the generation holds: positions rise within a
   partition), the tables are switched and the read cache generations recorded for bumping.
   Readers see the old tables until the commit, the new ones after it.

No side effects: the projector replayed is built without its side effects (the registry
says how); a replay sends no email or task, announces no version, parks nothing. An event
that fails to apply aborts the replay: the generation is dropped, the live tables stay,
and the error names the event. Events held back by a parked event of their aggregate are
held back in the new generation too, so redriving them still works as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import OperationalError, connection, transaction
from django.db.models import F, Min
from django.db.models.functions import Greatest

from adapters.outages import is_outage
from projections import cache_outbox
from projections.consumer import Projector
from projections.models import ParkedEvent, ProjectionCheckpoint
from projections.replay.generation import Generation
from projections.stored_events import pages, read_ahead
from write_api.published_events import EventLog

log = structlog.get_logger("shopstream.replay")
Envelope = dict[str, Any]
Report = Callable[[int, int], None]  # (position read, store head)
BATCH = 2_000  # envelopes per apply and commit
# Statistics are refreshed as the tables grow (1st, 2nd, 4th, 8th... batch): an empty
# table's plan (a sequential scan) would make each batch slower than the last.
FIRST_ANALYZE_BATCH = 1


# How long the switch waits for a table's lock before it lets readers by and tries again.
SWITCH_LOCK_TIMEOUT_MS = 2_000
SWITCH_ATTEMPTS = 10
LOCK_NOT_AVAILABLE = "55P03"


def _lock_timeout(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE


class ReplayFailed(Exception):
    """An event the projector could not apply: the replay stopped, the live model stays."""


@dataclass(frozen=True)
class Replay:
    """What replaying one projector takes, as the registry declares it."""

    projector: Callable[[], Projector]  # built without side effects
    tables: tuple[str, ...]  # its read tables, switched in together
    scratch: tuple[str, ...] = ()  # tables it writes that a replay must not (discarded)
    cache_keys: Callable[[], Iterable[str]] = tuple  # generations to bump once switched
    after_switch: Callable[[EventLog, Report | None], None] | None = None  # the index


@dataclass(frozen=True)
class Outcome:
    events: int  # applied to the new generation
    head: int  # the store position it holds everything up to
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class Replayer:
    """Feeds one projector's new generation from the store, then switches it in."""

    def __init__(
        self,
        app: EventLog,
        replay: Replay,
        checkpoint_name: str,
        batch: int = BATCH,
        report: Report | None = None,
        after_report: Report | None = None,
    ) -> None:
        self.app, self.replay, self.batch = app, replay, batch
        self.projector = replay.projector()
        self.checkpoint_name = checkpoint_name
        self.report = report or (lambda done, total: None)
        self.after_report = after_report
        self.generation = Generation.of(self.projector.name, replay.tables, replay.scratch)
        self.applied = self.batches = 0
        self.head = 0
        self._held: dict[str, int] = {}

    def run(self) -> Outcome:
        with one_replay_of(self.projector.name):
            return self._run()

    def _run(self) -> Outcome:
        started = time.perf_counter()
        self.generation.create()
        try:
            self._held = held_from(self.projector.name)
            self.head = self.app.recorder.max_notification_id() or 0
            position = self._feed(0, None)
            self.generation.add_foreign_keys()
            self.generation.analyze()
            position = self._feed(position, None)  # what the live side stored meanwhile
            head = self._switch(position)
        except BaseException:
            self.generation.drop()
            raise
        self._after_switch()
        outcome = Outcome(self.applied, head, time.perf_counter() - started)
        log.info("projection_replayed", projector=self.projector.name, **vars(outcome))
        return outcome

    def _switch(self, position: int) -> int:
        """Switch, waiting at most SWITCH_LOCK_TIMEOUT for the tables' locks each time.

        Dropping a live table waits for its readers to finish, and every reader arriving
        after waits behind that: a long read would take the read API down with it. So the
        switch gives up its place after a short wait, catches up, and tries again.
        """
        for attempt in range(1, SWITCH_ATTEMPTS + 1):
            applied, batches = self.applied, self.batches
            try:
                return self._switch_once(position)
            except OperationalError as error:
                if not _lock_timeout(error):
                    raise
                self.applied, self.batches = applied, batches  # rolled back with it
                log.warning("replay_switch_waited", projector=self.projector.name, attempt=attempt)
                position = self._feed(position, None)
        raise ReplayFailed(
            f"{self.projector.name}: the live tables stayed in use through {SWITCH_ATTEMPTS} "
            f"attempts to switch (a long read?); the live read model is unchanged"
        )

    def _switch_once(self, position: int) -> int:
        """Pause the live runner, apply the rest up to the head, switch; the head."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{SWITCH_LOCK_TIMEOUT_MS}ms'")
            checkpoints = ProjectionCheckpoint.objects.filter(projector=self.checkpoint_name)
            list(checkpoints.select_for_update().order_by("pk"))
            self._held = held_from(self.projector.name)
            head = self.app.recorder.max_notification_id() or 0
            self._feed(position, head)
            checkpoints.update(position=Greatest(F("position"), head))
            self.generation.switch()
            cache_outbox.record(self.replay.cache_keys())
        return head

    def _after_switch(self) -> None:
        try:
            while cache_outbox.flush():
                pass
        except Exception as error:  # the live projector's flusher retries them
            if not is_outage(error):
                raise
            log.warning("replay_cache_bump_deferred", error=repr(error))
        if self.replay.after_switch is not None:
            self.replay.after_switch(self.app, self.after_report)

    def _feed(self, after: int, stop: int | None) -> int:
        """Apply stored events after `after` (up to `stop`) in batches; the last position read."""
        pending: list[Envelope] = []
        stored = pages(self.app, self.projector.aggregate_types, after, stop)
        for after, page in read_ahead(stored):
            pending.extend(e for e in page if not self._is_held(e))
            while len(pending) >= self.batch:
                self._apply(pending[: self.batch])
                pending = pending[self.batch :]
            self.report(after, max(self.head, after))
        self._apply(pending)
        return after

    def _is_held(self, envelope: Envelope) -> bool:
        held_from_position = self._held.get(envelope["aggregate_id"], math.inf)
        return bool(envelope["position"] >= held_from_position)

    def _apply(self, envelopes: list[Envelope]) -> None:
        if not envelopes:
            return
        try:
            with self.generation.writing():
                self.projector.apply(envelopes)
        except Exception as error:
            if is_outage(error):
                raise
            raise self._failure(envelopes, error) from error
        self.applied += len(envelopes)
        self.batches += 1
        if self.batches & (self.batches - 1) == 0:  # a power of two
            self.generation.analyze()

    def _failure(self, envelopes: list[Envelope], error: Exception) -> ReplayFailed:
        """Which event of a failed batch fails on its own (applied one by one, rolled back)."""
        culprit, cause = envelopes[0], error
        try:
            with self.generation.writing():
                for envelope in envelopes:
                    culprit = envelope
                    with transaction.atomic():
                        self.projector.apply([envelope])
                culprit = envelopes[-1]
                raise _RollBack
        except _RollBack:
            pass
        except Exception as single:  # noqa: BLE001 - reported, and the replay stops
            cause = single
        return ReplayFailed(
            f"{self.projector.name}: event at position {culprit['position']} "
            f"({culprit['type']} of {culprit['aggregate_type']} {culprit['aggregate_id']}, "
            f"version {culprit['version']}) cannot be applied: {cause!r}; "
            "the live read model is unchanged"
        )


class _RollBack(Exception):
    """Undo a diagnosis that applied every event (the failure needed the whole batch)."""


@contextmanager
def one_replay_of(projector: str) -> Iterator[None]:
    """A session lock: a second replay of the same projector would drop the first's tables."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('replay'), hashtext(%s))", [projector])
        [(locked,)] = cursor.fetchall()
    if not locked:
        raise ReplayFailed(f"a replay of {projector} is already running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(hashtext('replay'), hashtext(%s))", [projector]
            )


def held_from(projector: str) -> dict[str, int]:
    """Aggregate id -> position of its first event parked for `projector` (held from there)."""
    parked = (
        ParkedEvent.objects.filter(
            projector=projector, status=ParkedEvent.PARKED, position__isnull=False
        )
        .values("aggregate_id")
        .annotate(first=Min("position"))
    )
    return {row["aggregate_id"]: row["first"] for row in parked}
