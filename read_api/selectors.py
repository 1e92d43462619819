"""Read-only queries of the read API: `<entity>_<query>`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from opensearchpy import OpenSearch

from projections.catalog.models import ProductView


def product_get(product_id: UUID) -> ProductView | None:
    return ProductView.objects.filter(id=product_id, discontinued=False).first()


def product_search(
    client: OpenSearch, alias: str, *, text: str, page: int, page_size: int
) -> tuple[int, list[dict[str, Any]]]:
    """Products matching `text` (name boosted), best first; newest first when there is no text."""
    query: dict[str, Any] = {"match_all": {}}
    sort: list[Any] = [{"created_at": "desc"}, {"id": "asc"}]
    if text:
        query = {"multi_match": {"query": text, "fields": ["name^3", "description"]}}
        sort = ["_score", {"created_at": "desc"}, {"id": "asc"}]
    body = {
        "query": query,
        "sort": sort,
        "from": (page - 1) * page_size,
        "size": page_size,
        "track_total_hits": True,
    }
    response = client.search(index=alias, body=body)
    hits = response["hits"]
    return int(hits["total"]["value"]), [hit["_source"] for hit in hits["hits"]]
