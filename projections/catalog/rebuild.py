"""Rebuild the product index from the event store (not from Kafka) into a new generation.

A document OpenSearch refuses for its content (say, a stock beyond its integer field,
published by an older release) does not stop the rebuild: the product's latest event is
parked for the catalog projector (`manage.py parked`), and the rebuild goes on. A product
held back by a parked event is indexed as its read row is, like the live projector shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog

from projections.catalog.category_state import Tree, category_paths, evolve_tree
from projections.catalog.product_state import State, evolve, search_document
from projections.catalog.projector import row_documents
from projections.catalog.ratings import rating_of
from projections.catalog.search_index import Refusal, SearchIndex
from projections.parking import held_aggregates, park
from projections.stored_events import stored_envelopes
from write_api.published_events import EventLog

log = structlog.get_logger("shopstream.rebuild")
Progress = Callable[[int, int], None]
INDEX_CHUNK = 500  # documents built and sent at a time: bounded memory, short requests
CATALOG_TYPES = ("Product", "CategoryTree", "Review")
PROJECTOR = "catalog"


@dataclass
class Catalog:
    """Products and the category tree as folded from the event store."""

    products: dict[str, State] = field(default_factory=dict)
    tree: Tree = field(default_factory=dict)
    ratings: dict[str, list[int]] = field(default_factory=dict)
    # The last event of each product, to park when its document is refused.
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)

    def documents(self, ids: set[str] | None = None) -> list[dict[str, Any]]:
        paths = category_paths(self.tree)
        chosen = self.products if ids is None else {i: self.products[i] for i in ids}
        return [
            search_document(self._rated(s), paths.get(s["category_id"] or ""))
            for s in chosen.values()
        ]

    def _rated(self, state: State) -> State:
        average, count = rating_of(self.ratings.get(state["id"], []))
        return {**state, "rating_average": average, "rating_count": count}


def catalog_envelopes(app: EventLog, after: int) -> Iterator[dict[str, Any]]:
    """Every product, category and review envelope after position `after`, in log order."""
    return stored_envelopes(app, CATALOG_TYPES, after)


def fold(app: EventLog, after: int, catalog: Catalog) -> tuple[int, set[str]]:
    """Fold envelopes after `after` into `catalog`; return last position, changed products."""
    position, changed, tree_changed = after, set(), False
    for envelope in catalog_envelopes(app, after):
        position = envelope["position"]
        if envelope["aggregate_type"] == "CategoryTree":
            catalog.tree = evolve_tree(catalog.tree, envelope)
            tree_changed = True
            continue
        if envelope["aggregate_type"] == "Review":
            product_id = envelope["data"]["product_id"]
            catalog.ratings.setdefault(product_id, []).append(envelope["data"]["rating"])
            changed.add(product_id)
            continue
        product_id = envelope["aggregate_id"]
        catalog.products[product_id] = evolve(catalog.products.get(product_id), envelope)  # type: ignore[assignment]
        catalog.latest[product_id] = envelope
        changed.add(product_id)
    if tree_changed:
        changed |= {i for i, s in catalog.products.items() if s["category_id"]}
    return position, changed


def rebuild_search_index(
    app: EventLog, index: SearchIndex, progress: Progress | None = None
) -> str:
    """Index every product into a new generation, swap the alias, catch up, drop the old."""
    generation = index.create_generation()
    catalog = Catalog()
    head, _ = fold(app, 0, catalog)
    ids = sorted(catalog.products)
    for start in range(0, len(ids), INDEX_CHUNK):
        chunk = documents_of(catalog, set(ids[start : start + INDEX_CHUNK]))
        park_refused(catalog, index.index_documents(chunk, index=generation))
        if progress:
            progress(min(start + INDEX_CHUNK, len(ids)), len(ids))
    retired = index.point_alias_at(generation)
    # Events the live projector wrote to the old generation while we indexed.
    _, changed = fold(app, head, catalog)
    refused = index.index_documents(documents_of(catalog, changed), version_type="external_gte")
    park_refused(catalog, refused)
    for old in retired:
        index.client.indices.delete(index=old, ignore_unavailable=True)
    log.info("search_index_rebuilt", index=generation, documents=len(ids), retired=retired)
    return generation


def documents_of(catalog: Catalog, ids: set[str] | None = None) -> list[dict[str, Any]]:
    """Folded documents, but products held back by a parked event as their rows hold them."""
    wanted = set(catalog.products) if ids is None else ids
    held = held_aggregates(PROJECTOR, wanted)
    return catalog.documents(wanted - held) + row_documents(held)


def park_refused(catalog: Catalog, refusals: list[Refusal]) -> None:
    """Park each refused product's latest event for the catalog projector, and go on."""
    for refusal in refusals:
        envelope = catalog.latest[refusal.document_id]
        parked = park(
            PROJECTOR,
            envelope,
            f"the search index refused the document ({refusal.status}): {refusal.error}",
            attempts=1,
            source="rebuild_search_index",
        )
        log.error(
            "document_refused_parked",
            product_id=refusal.document_id,
            parked_id=parked.pk,
            error=refusal.error,
        )
