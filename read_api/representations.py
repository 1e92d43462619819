"""The shapes of API.md, built from read rows or search documents."""

from __future__ import annotations

from typing import Any

from projections.catalog.models import CategoryView, ProductView


def category_ref(category: CategoryView | None, category_id: Any) -> dict[str, Any] | None:
    if category_id is None:
        return None
    if category is None:  # not projected yet
        return {"id": str(category_id), "name": None, "path": None}
    return {"id": str(category.id), "name": category.name, "path": category.path}


def product_from_row(row: ProductView, category: CategoryView | None) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "price": str(row.price),
        "category": category_ref(category, row.category_id),
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
    names = document.get("category_names") or []
    category = None
    if document.get("category_id"):
        category = {
            "id": document["category_id"],
            "name": names[-1] if names else None,
            "path": "/".join(names) if names else None,
        }
    return {
        "id": document["id"],
        "name": document["name"],
        "description": document["description"],
        "price": document["price_text"],
        "category": category,
        "seller_id": document.get("seller_id"),
        "stock_available": document["stock_available"],
        "rating": {
            "average": f"{average:.2f}" if average is not None else None,
            "count": document.get("rating_count", 0),
        },
        "created_at": document["created_at"],
        "version": document["version"],
    }


def category_tree(rows: list[CategoryView]) -> list[dict[str, Any]]:
    """Nest categories under their parents, each level in name order."""
    nodes: dict[str, dict[str, Any]] = {
        str(r.id): {"id": str(r.id), "name": r.name, "path": r.path, "children": []} for r in rows
    }
    roots: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: r.name.casefold()):
        node = nodes[str(row.id)]
        parent = nodes.get(str(row.parent_id)) if row.parent_id else None
        (parent["children"] if parent else roots).append(node)
    return roots
