"""Catalog projector: category and product rows in PostgreSQL, product documents in OpenSearch."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol, cast

from django.db.models import Count, Sum

from contracts import event_types as events
from contracts import payloads
from projections import cache_outbox
from projections.catalog import cache_keys
from projections.catalog.category_state import CategoryPath, Tree, category_paths, evolve_tree
from projections.catalog.models import (
    ANONYMOUS_REVIEWER,
    AggregateVersion,
    CategoryView,
    ProductView,
    ReviewView,
)
from projections.catalog.product_state import State, evolve, search_document
from projections.catalog.ratings import rating_from_totals
from projections.row_updates import update_rows

FIELDS = [f.name for f in ProductView._meta.fields]
RATING_FIELDS = ["rating_average", "rating_count"]
CATEGORY_FIELDS = ["name", "parent_id", "path_ids", "path_names", "path", "depth"]


class SearchWrites(Protocol):
    """Where product documents go: the index (`SearchIndex`), or nowhere during a replay."""

    def write(
        self,
        documents: Iterable[dict[str, Any]],
        index: str | None = None,
        version_type: str = "external",
    ) -> int: ...


class CatalogProjector:
    """Folds CategoryTree and Product events into read rows, then indexes product documents."""

    name = "catalog"
    aggregate_types = ("Product", "CategoryTree", "Review")

    def __init__(self, search: SearchWrites) -> None:
        self.search = search

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        """Apply within the caller's transaction; newer versions only, so re-delivery is a no-op.

        The cache generations to move are recorded in the same transaction (an outbox).
        """
        categories = [e for e in envelopes if e["aggregate_type"] == "CategoryTree"]
        products = [e for e in envelopes if e["aggregate_type"] == "Product"]
        reviews = [e for e in envelopes if e["type"] == events.REVIEW_CREATED]
        bumps = {cache_keys.SEARCH_RESULTS}
        if categories:
            bumps |= self._apply_categories(categories)
        if products:
            bumps |= self._apply_products(products)
        if reviews:
            bumps |= self._apply_reviews(reviews)
        cache_outbox.record(bumps)

    def _apply_reviews(self, envelopes: list[dict[str, Any]]) -> set[str]:
        """Store each review once, then recompute the ratings of the products reviewed."""
        ReviewView.objects.bulk_create([_review(e) for e in envelopes], ignore_conflicts=True)
        product_ids = {e["data"]["product_id"] for e in envelopes}
        ratings = [
            ProductView(id=product_id, **dict(zip(RATING_FIELDS, rating, strict=True)))
            for product_id, rating in ratings_of(product_ids).items()
        ]
        update_rows(ProductView, ratings, RATING_FIELDS)
        rows = ProductView.objects.filter(id__in=product_ids)
        self.search.write(_documents([_state(r) for r in rows]), version_type="external_gte")
        return {cache_keys.product_key(p) for p in product_ids}

    def _apply_products(self, envelopes: list[dict[str, Any]]) -> set[str]:
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
        saved = [s for s in (states[i] for i in sorted(changed)) if s is not None]
        _rate_new_products([s for s in saved if s["id"] not in rows])
        ProductView.objects.bulk_create(
            [ProductView(**s) for s in saved],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[f for f in FIELDS if f != "id"],
        )
        self.search.write(_documents(list(saved)))
        return {cache_keys.product_key(p) for p in changed}

    def _apply_categories(self, envelopes: list[dict[str, Any]]) -> set[str]:
        tree_id = envelopes[0]["aggregate_id"]
        applied, _ = AggregateVersion.objects.select_for_update().get_or_create(
            projector=self.name, aggregate_id=tree_id, defaults={"version": 0}
        )
        rows = {str(r.id): r for r in CategoryView.objects.select_for_update()}
        tree: Tree = {
            i: {"name": r.name, "parent_id": _uuid_text(r.parent_id)} for i, r in rows.items()
        }
        fresh = [e for e in envelopes if e["version"] > applied.version]
        if not fresh:
            return set()
        for envelope in fresh:
            tree = evolve_tree(tree, envelope)
        applied.version = fresh[-1]["version"]
        applied.save(update_fields=["version"])
        moved = self._write_categories(tree, rows)
        self._reindex_products_in(moved)
        return {cache_keys.CATEGORY_TREE}

    def _write_categories(self, tree: Tree, rows: dict[str, CategoryView]) -> set[str]:
        """Upsert every category whose name or path changed; return those ids."""
        changed: dict[str, dict[str, Any]] = {}
        for category_id, path in category_paths(tree).items():
            values = {
                "name": tree[category_id]["name"],
                "parent_id": tree[category_id]["parent_id"],
                "path_ids": list(path.ids),
                "path_names": list(path.names),
                "path": path.text,
                "depth": len(path.ids) - 1,
            }
            row = rows.get(category_id)
            if row is None or _category_values(row) != values:
                changed[category_id] = values
        CategoryView.objects.bulk_create(
            [CategoryView(id=i, **values) for i, values in sorted(changed.items())],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=CATEGORY_FIELDS,
        )
        return set(changed)

    def _reindex_products_in(self, category_ids: set[str]) -> None:
        if not category_ids:
            return
        rows = ProductView.objects.filter(category_id__in=category_ids)
        self.search.write(_documents([_state(r) for r in rows]), version_type="external_gte")


def row_documents(product_ids: set[str]) -> list[dict[str, Any]]:
    """Search documents of products as their read rows hold them (possibly held back)."""
    if not product_ids:
        return []
    return _documents([_state(r) for r in ProductView.objects.filter(id__in=sorted(product_ids))])


def _rate_new_products(states: list[State]) -> None:
    """Reviews applied before their product's row existed (another topic, or the product was
    parked and redriven later) still count in its rating."""
    if not states:
        return
    ratings = ratings_of({s["id"] for s in states})
    for state in states:
        if state["id"] in ratings:
            state["rating_average"], state["rating_count"] = ratings[state["id"]]


def ratings_of(product_ids: set[str]) -> dict[str, tuple[Decimal | None, int]]:
    """The rating of each of these products that has reviews, summed up in one query."""
    if not product_ids:
        return {}
    totals = (
        ReviewView.objects.filter(product_id__in=sorted(product_ids))
        .values("product_id")
        .annotate(total=Sum("rating"), count=Count("id"))
    )
    return {str(t["product_id"]): rating_from_totals(t["total"], t["count"]) for t in totals}


def _review(envelope: dict[str, Any]) -> ReviewView:
    data = cast(payloads.ReviewCreated, envelope["data"])
    return ReviewView(
        id=envelope["aggregate_id"],
        product_id=data["product_id"],
        customer_id=data["customer_id"],
        reviewer_name=data.get("reviewer_name", ANONYMOUS_REVIEWER),
        rating=data["rating"],
        comment=data["comment"],
        created_at=envelope["occurred_at"],
    )


def _documents(states: list[State | None]) -> list[dict[str, Any]]:
    category_ids = {s["category_id"] for s in states if s and s["category_id"]}
    paths = {
        str(c.id): CategoryPath(tuple(c.path_ids), tuple(c.path_names))
        for c in CategoryView.objects.filter(id__in=category_ids)
    }
    return [search_document(s, paths.get(s["category_id"] or "")) for s in states if s]


def _uuid_text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _category_values(row: CategoryView) -> dict[str, Any]:
    return {
        "name": row.name,
        "parent_id": _uuid_text(row.parent_id),
        "path_ids": row.path_ids,
        "path_names": row.path_names,
        "path": row.path,
        "depth": row.depth,
    }


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
