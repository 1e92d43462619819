"""Read-only queries of the read API: `<entity>_<query>`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db.models import QuerySet
from opensearchpy import OpenSearch

from projections.catalog import cache_keys
from projections.catalog.models import CategoryView, ProductView, ReviewView
from read_api.representations import category_tree, product_from_row


def product_get(product_id: UUID) -> dict[str, Any] | None:
    row = ProductView.objects.filter(id=product_id, discontinued=False).first()
    if row is None:
        return None
    category = CategoryView.objects.filter(id=row.category_id).first() if row.category_id else None
    return product_from_row(row, category)


def category_list_tree() -> list[dict[str, Any]]:
    """The whole tree, cached until the catalog projector moves the tree's generation."""
    key = f"categories:tree:{cache_keys.generation(cache_keys.CATEGORY_TREE)}"
    return cache.get_or_set(key, lambda: category_tree(list(CategoryView.objects.all())), None)


def product_search(
    client: OpenSearch,
    alias: str,
    *,
    text: str,
    category: UUID | None,
    page: int,
    page_size: int,
) -> tuple[int, list[dict[str, Any]]]:
    """Buyable products matching `text` (name boosted), best first; newest first without text."""
    filters: list[dict[str, Any]] = [{"term": {"discontinued": False}}]
    if category is not None:
        filters.append({"term": {"category_path": str(category)}})
    must: dict[str, Any] = {"match_all": {}}
    sort: list[Any] = [{"created_at": "desc"}, {"id": "asc"}]
    if text:
        must = {
            "multi_match": {"query": text, "fields": ["name^3", "description", "category_names"]}
        }
        sort = ["_score", {"created_at": "desc"}, {"id": "asc"}]
    body = {
        "query": {"bool": {"must": [must], "filter": filters}},
        "sort": sort,
        "from": (page - 1) * page_size,
        "size": page_size,
        "track_total_hits": True,
    }
    response = client.search(index=alias, body=body)
    hits = response["hits"]
    return int(hits["total"]["value"]), [hit["_source"] for hit in hits["hits"]]


def review_list_for_product(product_id: UUID) -> QuerySet[ReviewView]:
    return ReviewView.objects.filter(product_id=product_id)


def review_body(review: ReviewView) -> dict[str, Any]:
    return {
        "id": str(review.id),
        "customer_id": str(review.customer_id),
        "rating": review.rating,
        "comment": review.comment,
        "created_at": review.created_at.isoformat(),
    }
