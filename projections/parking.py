"""Parking events a projector cannot apply, and holding later events of their aggregate behind.

Called inside the projector's transaction (with the checkpoint), or by the index rebuild.
An aggregate is *held* while any of its events is parked for that projector.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from django.db import connection

from projections.models import ParkedEvent

MAX_ERROR = 10_000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def held_aggregates(projector: str, aggregate_ids: Iterable[str]) -> set[str]:
    """The aggregates among `aggregate_ids` with an event parked for `projector`."""
    ids = sorted(set(aggregate_ids))
    if not ids:
        return set()
    parked = ParkedEvent.objects.filter(
        projector=projector, status=ParkedEvent.PARKED, aggregate_id__in=ids
    )
    return set(parked.values_list("aggregate_id", flat=True).distinct())


def lock_aggregates(projector: str, aggregate_ids: Iterable[str]) -> None:
    """Serialise with a redrive of the same aggregates until the transaction ends."""
    ids = sorted(set(aggregate_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(a)) FROM unnest(%s::text[]) a",
            [projector, ids],
        )


def park(
    projector: str,
    envelope: dict[str, Any],
    error: str,
    *,
    attempts: int,
    source: str = "",
) -> ParkedEvent:
    """Park one readable envelope; parking the same event again changes nothing."""
    stored, exact = storable(envelope)
    parked, _ = ParkedEvent.objects.get_or_create(
        projector=projector,
        aggregate_id=clean_text(str(envelope["aggregate_id"]))[:200],
        position=envelope["position"],
        defaults={
            "envelope": stored,
            "envelope_text": exact,
            "error": clean_text(error)[:MAX_ERROR],
            "attempts": attempts,
            "source": clean_text(source)[:300],
        },
    )
    return parked


def park_behind(projector: str, envelope: dict[str, Any], source: str = "") -> ParkedEvent:
    """Park an event only because an earlier event of its aggregate is parked (never tried)."""
    return park(
        projector,
        envelope,
        "held back: an earlier event of this aggregate is parked",
        attempts=0,
        source=source,
    )


def park_unreadable(projector: str, key: str, raw: str, error: str, source: str) -> ParkedEvent:
    """Park a message that is no envelope at all, under its Kafka key (once per message)."""
    existing = ParkedEvent.objects.filter(
        projector=projector, position__isnull=True, source=source
    ).first()
    if existing is not None:
        return existing
    return ParkedEvent.objects.create(
        projector=projector,
        aggregate_id=clean_text(key)[:200],
        position=None,
        envelope={"unreadable": clean_text(raw)},
        error=clean_text(error)[:MAX_ERROR],
        attempts=1,
        source=clean_text(source)[:300],
    )


def original_envelope(parked: ParkedEvent) -> dict[str, Any]:
    """The envelope exactly as it was delivered."""
    delivered: dict[str, Any] = (
        json.loads(parked.envelope_text) if parked.envelope_text else parked.envelope
    )
    return delivered


def storable(envelope: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """What jsonb can hold, plus the exact JSON text when that had to differ (else "").

    jsonb refuses NUL, lone surrogates, NaN and infinities; the copy shows them as text.
    """
    if _jsonb_safe(envelope):
        return envelope, ""
    exact = json.dumps(envelope)  # ASCII escapes: PostgreSQL text holds them
    return _cleaned(envelope), exact


def clean_text(text: str) -> str:
    """Text PostgreSQL can store: NUL and lone surrogates become U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _jsonb_safe(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is None
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_jsonb_safe(k) and _jsonb_safe(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_jsonb_safe(v) for v in value)
    return True


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value
