"""Selectors over a product's audit log: the product as of a time, and what each event changed.

Both fold the product's events with the catalog projector's own `evolve`, so a past
product has the live detail's shape and a change is what the read model saw change. A fold
starts at the product's latest state checkpoint before what it shows
(`projections.audit.product_checkpoints`) and reads only the audit rows from there, a range
by version: a read costs at most a checkpoint interval plus the page, whatever the length
of the product's history. A product with no checkpoint yet (its history predates them; a
replay of audit fills them in) folds from its first event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet, Sum

from contracts import event_types as events
from projections.audit.models import AuditEvent, ProductStateCheckpoint
from projections.audit.product_checkpoints import decode, envelope_of
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
class Start:
    """Where a fold starts: the state after the product's first `rows` audit rows, the
    last of which has `version` (the origin: nothing folded yet)."""

    version: int = 0
    rows: int = 0
    state: State | None = None


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
    # A product's creation is its version 1: found by the (aggregate, version) index, not by
    # scanning every product's creation through the type index.
    created = product_events(product_id).filter(version=1, type=events.PRODUCT_CREATED).first()
    return None if created is None else str(created.data.get("seller_id") or "")


def product_as_of(product_id: UUID, when: datetime) -> dict[str, Any] | None:
    """The product rebuilt from its events up to `when`, in the live detail's shape, with
    its category and rating as they were then (None if it did not exist yet)."""
    start = _start(product_id, Q(occurred_at__lte=when))
    # The next checkpoint holds an event after `when`; events past it are later still (a
    # product's event times rise with its versions, but for a clock skew under a checkpoint
    # interval), so they are not read.
    state = _fold(
        _after(product_id, start, until=when, through=_next(product_id, start)), start.state
    )
    if state is None:
        return None
    body = product_from_row(_row(state), _category_as_of(state["category_id"], when))
    average, count = _rating_until(product_id, when)
    body["rating"] = {"average": str(average) if average is not None else None, "count": count}
    return {**body, "discontinued": state["discontinued"], "as_of": when.isoformat()}


def product_history_page(product_id: UUID, page: int, size: int) -> tuple[int, list[Any]]:
    """The `page`-th page of `size` entries in version order, and how many there are."""
    skip = (page - 1) * size
    start = _start(product_id, Q(rows__lte=skip))
    # The fold starts before the page: an entry's "from" is the state before it.
    stored = _after(product_id, start)[: skip - start.rows + size]
    return _count(product_id), list(_entries(stored, start.state))[skip - start.rows :]


def product_history_slice(
    product_id: UUID, *, after: int = 0, before: int | None = None, size: int
) -> ProductPage:
    """Up to `size` entries after version `after`, or the last `size` before `before`."""
    found = product_events(product_id)
    if before is not None:
        last = list(found.filter(version__lt=before).order_by("-version")[: size + 1])
        shown = last[:size][::-1]
        if not shown:
            return ProductPage([], more_before=False, more_after=True)
        state = _state_before(product_id, shown[0].version)
        entries = list(_entries(shown, state))
        return ProductPage(entries, more_before=len(last) > size, more_after=True)
    following = list(found.filter(version__gt=after)[: size + 1])
    if not following:
        return ProductPage([], more_before=after > 0, more_after=False)
    start = _start(product_id, Q(version__lte=after))
    earlier = list(_after(product_id, start, through=after))
    state = _fold(earlier, start.state)
    entries = list(_entries(following[:size], state))
    more_before = start.rows + len(earlier) > 0
    return ProductPage(entries, more_before=more_before, more_after=len(following) > size)


def without_customer_ids(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with the ids of customers (whose checkouts reserve stock) left out: a
    customer is personal data for the seller and analysts; the role still shows."""
    return [
        {**e, "actor": {**e["actor"], "id": None}} if e["actor"]["role"] == "customer" else e
        for e in entries
    ]


def _start(product_id: UUID, before: Q) -> Start:
    """The latest checkpoint matching `before` (checkpoints only grow in version, rows and
    time), else the origin."""
    checkpoints = ProductStateCheckpoint.objects.filter(product_id=product_id)
    found = checkpoints.filter(before).order_by("-version").first()
    return Start(found.version, found.rows, decode(found.state)) if found else Start()


def _next(product_id: UUID, start: Start) -> int | None:
    """The version of the checkpoint after `start`, if any."""
    following = ProductStateCheckpoint.objects.filter(
        product_id=product_id, version__gt=start.version
    )
    return following.order_by("version").values_list("version", flat=True).first()


def _after(
    product_id: UUID, start: Start, *, until: datetime | None = None, through: int | None = None
) -> QuerySet[AuditEvent]:
    """The product's rows after `start` in version order, up to version `through`."""
    found = product_events(product_id, until).filter(version__gt=start.version)
    return found if through is None else found.filter(version__lte=through)


def _state_before(product_id: UUID, version: int) -> State | None:
    start = _start(product_id, Q(version__lt=version))
    return _fold(_after(product_id, start, through=version - 1), start.state)


def _count(product_id: UUID) -> int:
    """How many rows the product's history has: the latest checkpoint's, plus those after."""
    start = _start(product_id, Q())
    return start.rows + _after(product_id, start).count()


def _entries(stored: Iterable[AuditEvent], state: State | None = None) -> Iterator[dict[str, Any]]:
    for event in stored:
        before, state = state, evolve(state, envelope_of(event))
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


def _fold(stored: Iterable[AuditEvent], state: State | None = None) -> State | None:
    for event in stored:
        state = evolve(state, envelope_of(event))
    return state


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
            tree = evolve_tree(tree, envelope_of(event))
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
