"""Read-only queries of the read API: `<entity>_<query>`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from opensearchpy import OpenSearch

from projections.catalog.models import CategoryView, ProductView, ReviewView
from read_api.representations import category_tree, product_from_row
from read_api.search import ProductQuery, search_body


def product_get(product_id: UUID) -> dict[str, Any] | None:
    row = ProductView.objects.filter(id=product_id, discontinued=False).first()
    if row is None:
        return None
    category = CategoryView.objects.filter(id=row.category_id).first() if row.category_id else None
    return product_from_row(row, category)


def product_version(product_id: UUID) -> int | None:
    return ProductView.objects.filter(id=product_id).values_list("version", flat=True).first()


def category_list_tree() -> list[dict[str, Any]]:
    """The whole tree, every category nested under its parent (read_api.caching caches it)."""
    return category_tree(list(CategoryView.objects.all()))


def product_search(
    client: OpenSearch, alias: str, query: ProductQuery, *, page: int, page_size: int
) -> tuple[int, list[dict[str, Any]]]:
    """One page of buyable products matching `query`."""
    body = {**search_body(query), "from": (page - 1) * page_size, "size": page_size}
    response = client.search(index=alias, body=body)
    hits = response["hits"]
    return int(hits["total"]["value"]), [hit["_source"] for hit in hits["hits"]]


def review_list_for_product(product_id: UUID) -> QuerySet[ReviewView]:
    return ReviewView.objects.filter(product_id=product_id)


def review_body(review: ReviewView) -> dict[str, Any]:
    return {
        "id": str(review.id),
        "reviewer_name": review.reviewer_name,
        "rating": review.rating,
        "comment": review.comment,
        "created_at": review.created_at.isoformat(),
    }
