"""Catalog projector: product read rows in PostgreSQL and product documents in OpenSearch."""

from __future__ import annotations

from typing import Any

from projections.catalog.models import ProductView
from projections.catalog.product_state import State, evolve, search_document
from projections.catalog.search_index import SearchIndex

FIELDS = [f.name for f in ProductView._meta.fields]


class CatalogProjector:
    """Folds Product events into ProductView rows, then indexes those rows' documents."""

    name = "catalog"
    aggregate_types = ("Product",)

    def __init__(self, search: SearchIndex) -> None:
        self.search = search

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        """Apply within the caller's transaction; newer versions only, so re-delivery is a no-op."""
        ids = {e["aggregate_id"] for e in envelopes}
        rows = {str(r.id): r for r in ProductView.objects.select_for_update().filter(id__in=ids)}
        states: dict[str, State | None] = {i: _state(rows.get(i)) for i in ids}
        changed: set[str] = set()
        for envelope in envelopes:
            aggregate_id = envelope["aggregate_id"]
            state = states[aggregate_id]
            if state is not None and envelope["version"] <= state["version"]:
                continue
            states[aggregate_id] = evolve(state, envelope)
            changed.add(aggregate_id)
        for aggregate_id in changed:
            state = states[aggregate_id]
            assert state is not None
            ProductView.objects.update_or_create(
                id=aggregate_id, defaults={k: v for k, v in state.items() if k != "id"}
            )
        self.search.write(search_document(states[i]) for i in changed)  # type: ignore[arg-type]


def _state(row: ProductView | None) -> State | None:
    if row is None:
        return None
    state = {field: getattr(row, field) for field in FIELDS}
    state["id"] = str(row.id)
    for key in ("category_id", "seller_id"):
        state[key] = str(state[key]) if state[key] else None
    state["price"] = str(row.price)
    state["created_at"] = row.created_at.isoformat()
    state["updated_at"] = row.updated_at.isoformat()
    return state
