"""Selectors over a product's audit log: the product as of a time, and what each event changed.

Both fold the product's events with the catalog projector's own `evolve`, so a past
product has the live detail's shape and a change is what the read model saw change. A
page of history folds from the first event (its first "from" is the state before it):
reads cost the product's history up to that page, which no command ever pays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, QuerySet, Sum

from contracts import event_types as events
from projections.audit.models import AuditEvent
from projections.catalog.category_state import Tree, category_paths, evolve_tree
from projections.catalog.models import CategoryView, ProductView, ReviewView
from projections.catalog.product_state import State, evolve
from projections.catalog.ratings import rating_from_totals
from read_api.representations import product_from_row

# What a history entry reports as changed; `stock_available` is what buyers saw.
WATCHED = (
    "name",
    "description",
    "price",
    "category_id",
    "seller_id",
    "stock",
    "reserved",
    "stock_available",
    "discontinued",
)


@dataclass(frozen=True)
class ProductPage:
    """A slice of a product's history, and whether entries lie before and after it."""

    entries: list[dict[str, Any]]
    more_before: bool
    more_after: bool


def product_events(product_id: UUID, until: datetime | None = None) -> QuerySet[AuditEvent]:
    found = AuditEvent.objects.filter(aggregate_type="Product", aggregate_id=product_id)
    return (found.filter(occurred_at__lte=until) if until else found).order_by("version")


def product_seller(product_id: UUID) -> str | None:
    """The seller who created the product ("" if none), or None if it has no history."""
    created = product_events(product_id).filter(type=events.PRODUCT_CREATED).first()
    return None if created is None else str(created.data.get("seller_id") or "")


def product_as_of(product_id: UUID, when: datetime) -> dict[str, Any] | None:
    """The product rebuilt from its events up to `when`, in the live detail's shape, with
    its category and rating as they were then (None if it did not exist yet)."""
    state = _fold(product_events(product_id, when))
    if state is None:
        return None
    body = product_from_row(_row(state), _category_as_of(state["category_id"], when))
    average, count = _rating_until(product_id, when)
    body["rating"] = {"average": str(average) if average is not None else None, "count": count}
    return {**body, "discontinued": state["discontinued"], "as_of": when.isoformat()}


def product_history_page(product_id: UUID, page: int, size: int) -> tuple[int, list[Any]]:
    """The `page`-th page of `size` entries in version order, and how many there are."""
    start = (page - 1) * size
    found = product_events(product_id)
    # The fold starts at the first event: an entry's "from" is the state before it.
    return found.count(), list(_entries(found[: start + size]))[start:]


def product_history_slice(
    product_id: UUID, *, after: int = 0, before: int | None = None, size: int
) -> ProductPage:
    """Up to `size` entries after version `after`, or the last `size` before `before`."""
    found = product_events(product_id)
    if before is not None:
        entries = list(_entries(found.filter(version__lt=before)))
        return ProductPage(entries[-size:], more_before=len(entries) > size, more_after=True)
    versions = list(found.filter(version__gt=after).values_list("version", flat=True)[: size + 1])
    if not versions:
        return ProductPage([], more_before=after > 0, more_after=False)
    entries = list(_entries(found.filter(version__lte=versions[:size][-1])))
    page = [e for e in entries if e["version"] > after]
    return ProductPage(page, more_before=len(entries) > len(page), more_after=len(versions) > size)


def without_customer_ids(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with the ids of customers (whose checkouts reserve stock) left out: a
    customer is personal data for the seller and analysts; the role still shows."""
    return [
        {**e, "actor": {**e["actor"], "id": None}} if e["actor"]["role"] == "customer" else e
        for e in entries
    ]


def _entries(stored: Iterable[AuditEvent]) -> Iterator[dict[str, Any]]:
    state: State | None = None
    for event in stored:
        before, state = state, evolve(state, _envelope(event))
        yield {
            "position": event.position,
            "version": event.version,
            "type": event.type,
            "at": event.occurred_at.isoformat(),
            "actor": {"id": event.actor_id or None, "role": event.actor_role or None},
            "changes": _diff(before, state),
        }


def _diff(before: State | None, after: State | None) -> dict[str, dict[str, Any]]:
    old, new = _watched(before), _watched(after)
    return {f: {"from": old.get(f), "to": new[f]} for f in WATCHED if old.get(f) != new.get(f)}


def _watched(state: State | None) -> dict[str, Any]:
    if state is None:
        return {}
    return {
        **{f: state[f] for f in WATCHED if f in state},
        "stock_available": state["stock"] - state["reserved"],
    }


def _fold(stored: Iterable[AuditEvent]) -> State | None:
    state: State | None = None
    for event in stored:
        state = evolve(state, _envelope(event))
    return state


def _envelope(event: AuditEvent) -> dict[str, Any]:
    """The part of the published envelope `evolve` reads, from its audit row."""
    return {
        "aggregate_id": str(event.aggregate_id),
        "version": event.version,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "data": event.data,
    }


def _row(state: State) -> ProductView:
    """An unsaved read row holding `state`, to render as the live detail renders rows."""
    return ProductView(**{f.name: state[f.name] for f in ProductView._meta.fields})


def _category_as_of(category_id: str | None, when: datetime) -> CategoryView | None:
    """The category with its name and path as they were at `when` (None if unknown then)."""
    if not category_id:
        return None
    tree: Tree = {}
    stored = AuditEvent.objects.filter(aggregate_type="CategoryTree", occurred_at__lte=when)
    try:
        for event in stored.order_by("position"):
            tree = evolve_tree(tree, _envelope(event))
        path = category_paths(tree).get(category_id)
    except KeyError:  # a category the audit log holds no addition of: name unknown
        return None
    if path is None:
        return None
    return CategoryView(id=category_id, name=path.names[-1], path=path.text)


def _rating_until(product_id: UUID, when: datetime) -> tuple[Decimal | None, int]:
    """The rating from the reviews written by `when`: reviews are never changed or removed,
    so the review rows (dated by their event) hold that past, indexed by product."""
    reviews = ReviewView.objects.filter(product_id=product_id, created_at__lte=when)
    totals = reviews.aggregate(total=Sum("rating"), count=Count("id"))
    return rating_from_totals(totals["total"] or 0, totals["count"])
