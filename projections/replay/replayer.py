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

Outages: an outage of a backing server (`adapters.outages.is_outage`) is waited out with
back-off, up to `outage_timeout` for one outage (`projections.replay.patience`); then the
replay goes on from what the generation holds (its progress row is committed with each
batch, so no batch is applied twice or lost), taking the replay lock again if the session
that held it was lost. Outlasted, the replay stops like a failed one.

No side effects: the projector replayed is built without its side effects (the registry
says how); a replay sends no email or task, announces no version, parks nothing. An event
that fails to apply aborts the replay: the generation is dropped, the live tables stay,
and the error names the event. Events held back by a parked event of their aggregate are
held back in the new generation too, so redriving them still works as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from django.db import OperationalError, connection, transaction
from django.db.models import F, Min
from django.db.models.functions import Greatest

from adapters.outages import is_outage
from projections import cache_outbox
from projections.consumer import Projector
from projections.models import ParkedEvent, ProjectionCheckpoint
from projections.replay import guard
from projections.replay.diagnosis import culprit
from projections.replay.generation import Generation
from projections.replay.patience import OUTAGE_TIMEOUT_SECONDS, Notice, OutageOutlasted, Patience
from projections.stored_events import pages, read_ahead
from write_api.published_events import EventLog

log = structlog.get_logger("shopstream.replay")
Envelope = dict[str, Any]
Report = Callable[[int, int], None]  # (position read, store head)
T = TypeVar("T")
UNCHANGED = "the live read model is unchanged"
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
        outage_timeout: float = OUTAGE_TIMEOUT_SECONDS,
        notice: Notice | None = None,
    ) -> None:
        self.app, self.replay, self.batch = app, replay, batch
        self.projector = replay.projector()
        self.checkpoint_name = checkpoint_name
        self.report = report or (lambda done, total: None)
        self.after_report = after_report
        self.generation = Generation.of(self.projector.name, replay.tables, replay.scratch)
        self.patience = Patience(outage_timeout, notice)
        self.applied = self.batches = 0
        self.head = self.read = 0  # read: the generation holds every event up to it
        self._held: dict[str, int] = {}
        self._built = self._interrupted = False
        self._locked = True  # while run() holds the projector's replay lock
        self._session = 0  # the PostgreSQL session (backend) holding it

    def run(self) -> Outcome:
        try:
            with guard.one_replay_of(self.projector.name):
                self._session = guard.session()
                return self._run()
        except guard.ReplayRunning as running:
            raise ReplayFailed(str(running)) from None

    def _run(self) -> Outcome:
        started = time.perf_counter()
        self._patiently(self.generation.create, UNCHANGED)
        self._built = True
        try:
            self._held = self._patiently(lambda: held_from(self.projector.name), UNCHANGED)
            self.head = self._patiently(self.app.recorder.max_notification_id, UNCHANGED) or 0
            self._patiently(lambda: self._feed(None), UNCHANGED)
            self._patiently(self.generation.add_foreign_keys, UNCHANGED)
            self._patiently(self.generation.analyze, UNCHANGED)
            self._patiently(lambda: self._feed(None), UNCHANGED)  # stored meanwhile
            head = self._patiently(self._switch, UNCHANGED)
        except BaseException:
            self._drop()
            raise
        self._built = False
        self._patiently(
            self._after_switch,
            "the new rows are live, but the search index was not rebuilt (its alias keeps "
            "the old index): run manage.py rebuild_search_index once the server is back",
        )
        outcome = Outcome(self.applied, head, time.perf_counter() - started)
        log.info("projection_replayed", projector=self.projector.name, **vars(outcome))
        return outcome

    def _patiently(self, step: Callable[[], T], then: str) -> T:
        """`step`, again after each outage until it is over (resuming where the generation
        is), or ReplayFailed once one outage outlasts the patience; `then` says what stays."""
        while True:
            try:
                if self._interrupted:
                    self._resume()
                result = step()
            except Exception as error:
                if not is_outage(error):
                    raise
                self._interrupted = True
                try:
                    self.patience.wait(self.projector.name, error)
                except OutageOutlasted as outlasted:
                    raise ReplayFailed(f"{self.projector.name}: {outlasted}; {then}") from error
                continue
            self.patience.recovered()
            return result

    def _resume(self) -> None:
        """After an outage: this session again (its lock with it), and the generation's place."""
        if _session_lost():
            connection.close()  # the next query connects anew
        # Django reconnects by itself after a failed rollback: the lock went with the old one.
        if (session := guard.session()) != self._session:
            self._locked = guard.take(self.projector.name)
            self._session = session
            if not self._locked:
                raise ReplayFailed(
                    f"{self.projector.name}: its replay lock was lost with the connection and "
                    f"taken meanwhile (another replay, or a redrive); {UNCHANGED}"
                )
            if self._built and self._released(held_from(self.projector.name)):
                raise ReplayFailed(
                    f"{self.projector.name}: parked events were redriven or skipped while the "
                    f"replay had lost its lock; start it again; {UNCHANGED}"
                )
        if self._built:
            progress = self.generation.progress()
            if progress is None:
                raise ReplayFailed(
                    f"{self.projector.name}: its generation is gone after the outage (dropped "
                    "by another session, or its switch committed as the connection was lost)"
                )
            self.read, self.applied, self.batches = progress
        self._interrupted = False

    def _released(self, held: dict[str, int]) -> bool:
        return any(held.get(aggregate, math.inf) > at for aggregate, at in self._held.items())

    def _drop(self) -> None:
        """Give the generation up if the server lets us; a later replay drops what remains."""
        if not self._locked:  # the generation is the replay's that holds the lock now
            return
        try:
            if _session_lost():
                connection.close()
            self.generation.drop()
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("replay_generation_left", projector=self.projector.name, error=repr(error))

    def _switch(self) -> int:
        """Switch, waiting at most SWITCH_LOCK_TIMEOUT for the tables' locks each time.

        Dropping a live table waits for its readers to finish, and every reader arriving
        after waits behind that: a long read would take the read API down with it. So the
        switch gives up its place after a short wait, catches up, and tries again.
        """
        for attempt in range(1, SWITCH_ATTEMPTS + 1):
            before = self.read, self.applied, self.batches
            try:
                return self._switch_once()
            except OperationalError as error:
                if not _lock_timeout(error):
                    raise
                self.read, self.applied, self.batches = before  # rolled back with it
                log.warning("replay_switch_waited", projector=self.projector.name, attempt=attempt)
                self._feed(None)
        raise ReplayFailed(
            f"{self.projector.name}: the live tables stayed in use through {SWITCH_ATTEMPTS} "
            f"attempts to switch (a long read?); the live read model is unchanged"
        )

    def _switch_once(self) -> int:
        """Pause the live runner, apply the rest up to the head, switch; the head."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{SWITCH_LOCK_TIMEOUT_MS}ms'")
            checkpoints = ProjectionCheckpoint.objects.filter(projector=self.checkpoint_name)
            list(checkpoints.select_for_update().order_by("pk"))
            self._held = held_from(self.projector.name)
            head = self.app.recorder.max_notification_id() or 0
            self._feed(head)
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

    def _feed(self, stop: int | None) -> None:
        """Apply the stored events after `self.read` (up to `stop`) in batches."""
        pending: list[Envelope] = []
        after = self.read
        stored = pages(self.app, self.projector.aggregate_types, after, stop)
        for after, page in read_ahead(stored):
            pending.extend(e for e in page if not self._is_held(e))
            while len(pending) >= self.batch:
                self._apply(pending[: self.batch])
                pending = pending[self.batch :]
            self.report(after, max(self.head, after))
        self._apply(pending)
        self.read = after

    def _is_held(self, envelope: Envelope) -> bool:
        held_from_position = self._held.get(envelope["aggregate_id"], math.inf)
        return bool(envelope["position"] >= held_from_position)

    def _apply(self, envelopes: list[Envelope]) -> None:
        if not envelopes:
            return
        applied, batches = self.applied + len(envelopes), self.batches + 1
        try:
            with self.generation.writing():
                self.projector.apply(envelopes)
                self.generation.record(envelopes[-1]["position"], applied, batches)
        except Exception as error:
            if is_outage(error):
                raise
            raise self._failure(envelopes, error) from error
        self.applied, self.batches = applied, batches
        self.patience.recovered()
        if self.batches & (self.batches - 1) == 0:  # a power of two
            self.generation.analyze()

    def _failure(self, envelopes: list[Envelope], error: Exception) -> ReplayFailed:
        event, cause = culprit(self.projector, self.generation, envelopes, error)
        return ReplayFailed(
            f"{self.projector.name}: event at position {event['position']} "
            f"({event['type']} of {event['aggregate_type']} {event['aggregate_id']}, "
            f"version {event['version']}) cannot be applied: {cause!r}; {UNCHANGED}"
        )


def _session_lost() -> bool:
    """This thread's connection is closed (a failed rollback closes it) or answers no more."""
    return connection.connection is None or not connection.is_usable()


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
