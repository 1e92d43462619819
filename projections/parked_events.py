"""What an operator does with parked events: find, redrive, skip (`manage.py parked`, the admin).

Redrive works per aggregate: it re-applies every event still parked for that aggregate
and projector, in position order, each in its own savepoint, and stops at the first that
fails again (that one keeps the new error; the later ones stay parked behind it). Skipped
events are passed over, so skipping a culprit and redriving the rest releases what was
held behind it. Nothing is deleted; a skip records who, when and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from adapters.outages import is_outage
from adapters.progress import Report
from contracts.schemas import current_envelope
from projections import cache_outbox
from projections.consumer import Projector
from projections.models import ParkedEvent
from projections.parking import MAX_ERROR, clean_text, lock_aggregates, original_envelope
from projections.replay.guard import no_replay_of

log = structlog.get_logger("shopstream.parked")


class ParkedEventsMissing(LookupError):
    """Some of the ids given are no parked event at all."""

    def __init__(self, ids: list[int]) -> None:
        super().__init__(f"no parked event with id {', '.join(map(str, ids))}")
        self.ids = ids


class NotParked(ValueError):
    """An event given was already redriven or skipped."""


@dataclass
class RedriveResult:
    """What one aggregate's redrive did."""

    projector: str
    aggregate_id: str
    redriven: list[int] = field(default_factory=list)
    failed: int | None = None
    error: str = ""
    still_parked: list[int] = field(default_factory=list)


def parked_events(ids: Iterable[int]) -> list[ParkedEvent]:
    """The events of these ids, in id order; ParkedEventsMissing names any that do not exist."""
    wanted = sorted(set(ids))
    found = list(ParkedEvent.objects.filter(id__in=wanted).order_by("id"))
    missing = sorted(set(wanted) - {event.pk for event in found})
    if missing:
        raise ParkedEventsMissing(missing)
    return found


def redrive(
    ids: Iterable[int] | None,
    build: Callable[[str], Projector],
    by: str,
    progress: Report | None = None,
) -> list[RedriveResult]:
    """Redrive the aggregates of these events (of every parked event when `ids` is None);
    `progress` is told (aggregates done, aggregates) after each. Refused (ReplayRunning)
    while any of their projectors is being replayed."""
    aggregates = _aggregates_to_redrive(ids)
    projectors: dict[str, Projector] = {}
    results: list[RedriveResult] = []
    with no_replay_of(name for name, _ in aggregates):
        if progress is not None:
            progress(0, len(aggregates))
        for name, aggregate_id in aggregates:
            if name not in projectors:
                projectors[name] = build(name)
            results.append(_redrive_aggregate(projectors[name], name, aggregate_id, by))
            if progress is not None:
                progress(len(results), len(aggregates))
    _flush_cache_bumps()
    return results


def _aggregates_to_redrive(ids: Iterable[int] | None) -> list[tuple[str, str]]:
    """(projector, aggregate id) of these events, or of every parked event when `ids` is None."""
    if ids is None:
        pairs = (
            ParkedEvent.objects.filter(status=ParkedEvent.PARKED)
            .order_by("projector", "aggregate_id")
            .values_list("projector", "aggregate_id")
            .distinct()
        )
        return list(pairs)
    events = parked_events(ids)
    _refuse_unless_parked(events)
    return sorted({(e.projector, e.aggregate_id) for e in events})


def _flush_cache_bumps() -> None:
    """Best effort: what Redis does not take now, the projectors flush within seconds."""
    try:
        cache_outbox.flush()
    except Exception as error:
        if not is_outage(error):
            raise
        log.warning("cache_bumps_left_in_outbox", error=repr(error))


def skip(ids: Iterable[int], reason: str, by: str) -> list[ParkedEvent]:
    """Mark parked events skipped, with the reason; they stay recorded and are never applied."""
    if not reason.strip():
        raise ValueError("a skip needs a reason")
    with transaction.atomic():
        events = parked_events(ids)
        _refuse_unless_parked(events)
        now = timezone.now()
        for event in events:
            event.status, event.reason = ParkedEvent.SKIPPED, clean_text(reason.strip())
            event.resolved_at, event.resolved_by = now, clean_text(by)[:200]
            event.save(update_fields=["status", "reason", "resolved_at", "resolved_by"])
    return events


def _refuse_unless_parked(events: list[ParkedEvent]) -> None:
    done = [f"#{e.pk} is {e.status}" for e in events if e.status != ParkedEvent.PARKED]
    if done:
        raise NotParked(f"only parked events can be changed: {', '.join(done)}")


def _redrive_aggregate(
    projector: Projector, name: str, aggregate_id: str, by: str
) -> RedriveResult:
    result = RedriveResult(name, aggregate_id)
    with transaction.atomic():
        lock_aggregates(name, [aggregate_id])  # the live projector parks or waits meanwhile
        events = list(
            ParkedEvent.objects.select_for_update()
            .filter(projector=name, aggregate_id=aggregate_id, status=ParkedEvent.PARKED)
            .order_by(F("position").asc(nulls_first=True), "id")
        )
        for event in events:
            if result.failed is not None:
                result.still_parked.append(event.pk)
                continue
            error = _apply(projector, event)
            if error is None:
                event.status, event.resolved_at = ParkedEvent.REDRIVEN, timezone.now()
                event.resolved_by = clean_text(by)[:200]
                event.save(update_fields=["status", "resolved_at", "resolved_by"])
                result.redriven.append(event.pk)
                continue
            event.error, event.attempts = clean_text(error)[:MAX_ERROR], event.attempts + 1
            event.save(update_fields=["error", "attempts"])
            result.failed, result.error = event.pk, event.error
    return result


def _apply(projector: Projector, event: ParkedEvent) -> str | None:
    """None if the event applied; otherwise why not. An outage is raised, changing nothing."""
    if event.position is None:
        return "unreadable envelope: nothing to apply; skip it with a reason"
    try:
        with transaction.atomic():
            # Parked by an older release, it may be in an older schema: read it as today's.
            projector.apply([current_envelope(original_envelope(event))])
    except Exception as error:
        if is_outage(error):
            raise
        return repr(error)
    return None
