"""The product shape of API.md, built from a read row or a search document."""

from __future__ import annotations

from typing import Any

from projections.catalog.models import ProductView


def _category(category_id: str | None) -> dict[str, Any] | None:
    return None if category_id is None else {"id": category_id, "name": None, "path": None}


def product_from_row(row: ProductView) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "price": str(row.price),
        "category": _category(str(row.category_id) if row.category_id else None),
        "seller_id": str(row.seller_id) if row.seller_id else None,
        "stock_available": row.stock_available,
        "rating": {
            "average": str(row.rating_average) if row.rating_average is not None else None,
            "count": row.rating_count,
        },
        "created_at": row.created_at.isoformat(),
        "version": row.version,
    }


def product_from_document(document: dict[str, Any]) -> dict[str, Any]:
    average = document.get("rating_average")
    return {
        "id": document["id"],
        "name": document["name"],
        "description": document["description"],
        "price": document["price_text"],
        "category": _category(document.get("category_id")),
        "seller_id": document.get("seller_id"),
        "stock_available": document["stock_available"],
        "rating": {
            "average": f"{average:.2f}" if average is not None else None,
            "count": document.get("rating_count", 0),
        },
        "created_at": document["created_at"],
        "version": document["version"],
    }
