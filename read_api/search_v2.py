"""v2 product search: typo tolerance, facets and cursor pages (selectors, no HTTP)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from opensearchpy import OpenSearch

from projections.catalog.models import CategoryView
from read_api.cursor import Cursor, reverse_sort
from read_api.search import ProductQuery, facets_body, search_body


def product_search_page(
    client: OpenSearch, alias: str, query: ProductQuery, cursor: Cursor | None, size: int
) -> dict[str, Any]:
    """One cursor page: documents, cursors to the neighbouring pages, and facet counts."""
    body = search_body(query, fuzzy=True)
    backwards = bool(cursor and cursor.backwards)
    if backwards:
        body["sort"] = reverse_sort(body["sort"])
    if cursor is not None:
        body["search_after"] = cursor.after
    body.update(size=size + 1, aggs=facets_body())
    response = client.search(index=alias, body=body)
    hits = response["hits"]["hits"]
    more = len(hits) > size
    hits = hits[:size]
    if backwards:
        hits.reverse()
    has_next = (more and not backwards) or (backwards and bool(hits))
    has_previous = (more and backwards) or (cursor is not None and not backwards and bool(hits))
    return {
        "documents": [hit["_source"] for hit in hits],
        "next": Cursor(hits[-1]["sort"]).encode() if has_next and hits else None,
        "previous": Cursor(hits[0]["sort"], backwards=True).encode() if has_previous else None,
        "count": int(response["hits"]["total"]["value"]),
        "facets": facets(response.get("aggregations", {})),
    }


def facets(aggregations: dict[str, Any]) -> dict[str, Any]:
    category_buckets = aggregations.get("categories", {}).get("buckets", [])
    names = dict(
        CategoryView.objects.filter(id__in=[b["key"] for b in category_buckets]).values_list(
            "id", "path"
        )
    )
    return {
        "categories": [
            {"id": b["key"], "path": names.get(_uuid(b["key"])), "count": b["doc_count"]}
            for b in category_buckets
        ],
        "price_ranges": [
            {"key": b["key"], "from": b.get("from"), "to": b.get("to"), "count": b["doc_count"]}
            for b in aggregations.get("price_ranges", {}).get("buckets", [])
        ],
        "ratings": [
            {"key": b["key"], "min": b.get("from"), "count": b["doc_count"]}
            for b in aggregations.get("ratings", {}).get("buckets", [])
        ],
    }


def _uuid(value: str) -> Any:
    try:
        return UUID(value)
    except ValueError:
        return value


def product_suggestions(client: OpenSearch, alias: str, prefix: str, size: int = 10) -> list[str]:
    """Product names completing `prefix`, best first, without repeats."""
    body = {
        "_source": ["name"],
        "suggest": {
            "names": {
                "prefix": prefix,
                "completion": {"field": "suggest", "skip_duplicates": True, "size": size * 2},
            }
        },
    }
    options = client.search(index=alias, body=body)["suggest"]["names"][0]["options"]
    names: list[str] = []
    for option in options:
        name = option["_source"]["name"]
        if name not in names:
            names.append(name)
    return names[:size]
