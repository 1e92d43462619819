"""Pure fold of product envelopes into the read state (no I/O): shared by projector and rebuild."""

from __future__ import annotations

from typing import Any

State = dict[str, Any]


def evolve(state: State | None, envelope: dict[str, Any]) -> State | None:
    """The product state after `envelope`; unknown event types only move the version."""
    data = envelope["data"]
    if envelope["type"] == "ProductCreated":
        return {
            "id": envelope["aggregate_id"],
            "name": data["name"],
            "description": data["description"],
            "price": data["price"],
            "category_id": data.get("category_id"),
            "seller_id": data.get("seller_id"),
            "stock": data["stock"],
            "reserved": 0,
            "discontinued": False,
            "rating_average": None,
            "rating_count": 0,
            "created_at": envelope["occurred_at"],
            "updated_at": envelope["occurred_at"],
            "version": envelope["version"],
        }
    if state is None:
        raise ValueError(f"{envelope['type']} v{envelope['version']} arrived before ProductCreated")
    return {**state, "updated_at": envelope["occurred_at"], "version": envelope["version"]}


def search_document(state: State) -> dict[str, Any]:
    """The OpenSearch document of a product."""
    return {
        "id": state["id"],
        "name": state["name"],
        "description": state["description"],
        "price": float(state["price"]),
        "price_text": str(state["price"]),
        "category_id": state["category_id"],
        "category_path": [],
        "seller_id": state["seller_id"],
        "stock_available": state["stock"] - state["reserved"],
        "rating_average": state["rating_average"],
        "rating_count": state["rating_count"],
        "created_at": state["created_at"],
        "version": state["version"],
    }
