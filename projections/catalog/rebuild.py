"""Rebuild the product index from the event store (not from Kafka) into a new generation."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import structlog

from projections.catalog.product_state import State, evolve, search_document
from projections.catalog.search_index import SearchIndex
from write_api.application import Shop
from write_api.published_events import to_envelope

log = structlog.get_logger("shopstream.rebuild")
Progress = Callable[[int, int], None]
CHUNK = 1_000


def product_envelopes(app: Shop, after: int) -> Iterator[dict]:
    """Every Product envelope after notification position `after`, in log order."""
    while True:
        notifications = app.recorder.select_notifications(
            start=after, limit=CHUNK, inclusive_of_start=False
        )
        for notification in notifications:
            envelope = to_envelope(app.mapper.to_domain_event(notification), notification.id)
            if envelope["aggregate_type"] == "Product":
                yield envelope
        if len(notifications) < CHUNK:
            return
        after = notifications[-1].id


def fold(app: Shop, after: int, states: dict[str, State]) -> tuple[int, set[str]]:
    """Fold envelopes after `after` into `states`; return the last position and changed ids."""
    position, changed = after, set()
    for envelope in product_envelopes(app, after):
        aggregate_id = envelope["aggregate_id"]
        states[aggregate_id] = evolve(states.get(aggregate_id), envelope)  # type: ignore[assignment]
        position = envelope["position"]
        changed.add(aggregate_id)
    return position, changed


def rebuild_search_index(app: Shop, index: SearchIndex, progress: Progress | None = None) -> str:
    """Index every product into a new generation, swap the alias, catch up, drop the old."""
    generation = index.create_generation()
    states: dict[str, State] = {}
    head, _ = fold(app, 0, states)
    documents = [search_document(s) for s in states.values()]
    for start in range(0, len(documents), CHUNK):
        index.write(documents[start : start + CHUNK], index=generation)
        if progress:
            progress(min(start + CHUNK, len(documents)), len(documents))
    retired = index.point_alias_at(generation)
    # Events the live projector wrote to the old generation while we indexed.
    _, changed = fold(app, head, states)
    index.write([search_document(states[i]) for i in changed])
    for old in retired:
        index.client.indices.delete(index=old, ignore_unavailable=True)
    log.info("search_index_rebuilt", index=generation, documents=len(documents), retired=retired)
    return generation
