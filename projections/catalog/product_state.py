"""Pure fold of product envelopes into the read state (no I/O): shared by projector and rebuild."""

from __future__ import annotations

from typing import Any, cast

from contracts import event_types as events
from contracts import payloads
from projections.catalog.category_state import CategoryPath

State = dict[str, Any]
_FIELD_CHANGES = {
    events.PRODUCT_DETAILS_CHANGED: ("name", "description"),
    events.PRODUCT_REPRICED: ("price",),
    events.PRODUCT_RECATEGORIZED: ("category_id",),
    events.PRODUCT_STOCK_ADJUSTED: ("stock",),
    events.PRODUCT_RESTOCKED: ("stock",),
}


def evolve(state: State | None, envelope: dict[str, Any]) -> State | None:
    """The product state after `envelope`; unknown event types only move the version."""
    data, kind = envelope["data"], envelope["type"]
    if kind == events.PRODUCT_CREATED:
        created = cast(payloads.ProductCreated, data)
        return {
            "id": envelope["aggregate_id"],
            "name": created["name"],
            "description": created["description"],
            "price": created["price"],
            "category_id": created.get("category_id"),
            "seller_id": created.get("seller_id"),
            "stock": created["stock"],
            "reserved": 0,
            "discontinued": False,
            "rating_average": None,
            "rating_count": 0,
            "created_at": envelope["occurred_at"],
            "updated_at": envelope["occurred_at"],
            "version": envelope["version"],
        }
    if state is None:
        raise ValueError(f"{kind} v{envelope['version']} arrived before ProductCreated")
    changed = {field: data[field] for field in _FIELD_CHANGES.get(kind, ())}
    if kind == events.PRODUCT_DISCONTINUED:
        changed["discontinued"] = True
    elif kind == events.PRODUCT_RESERVED:
        changed["reserved"] = state["reserved"] + reservation(data)["quantity"]
    elif kind == events.PRODUCT_RESERVATION_RELEASED:
        changed["reserved"] = state["reserved"] - reservation(data)["quantity"]
    elif kind == events.PRODUCT_SOLD:
        changed["reserved"] = state["reserved"] - reservation(data)["quantity"]
        changed["stock"] = state["stock"] - reservation(data)["quantity"]
    return {
        **state,
        **changed,
        "updated_at": envelope["occurred_at"],
        "version": envelope["version"],
    }


def reservation(data: dict[str, Any]) -> payloads.ProductReservation:
    """The payload of ProductReserved, ProductReservationReleased and ProductSold."""
    return cast(payloads.ProductReservation, data)


def search_document(state: State, category: CategoryPath | None = None) -> dict[str, Any]:
    """The OpenSearch document of a product; `category` is its category's current path."""
    category_id = state["category_id"]
    if category is None:
        category = CategoryPath((category_id,), ()) if category_id else CategoryPath((), ())
    return {
        "id": state["id"],
        "name": state["name"],
        "description": state["description"],
        "price": float(state["price"]),
        "price_text": str(state["price"]),
        "category_id": category_id,
        "category_path": list(category.ids),
        "category_names": list(category.names),
        "seller_id": state["seller_id"],
        "stock_available": state["stock"] - state["reserved"],
        "rating_average": (
            float(state["rating_average"]) if state["rating_average"] is not None else None
        ),
        "rating_count": state["rating_count"],
        "discontinued": state["discontinued"],
        "created_at": state["created_at"],
        "version": state["version"],
        "suggest": {"input": [] if state["discontinued"] else suggestions(state["name"])},
    }


def suggestions(name: str) -> list[str]:
    """What autocomplete matches: the name, and the name from each later word on."""
    words = name.split()
    return [" ".join(words[i:]) for i in range(min(len(words), 5))]
