"""OpenSearch query building for product search: filters, ordering, full text (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

ORDERINGS = ("price", "-price", "-rating", "-created", "relevance")
TIE_BREAK = {"id": "asc"}


@dataclass(frozen=True)
class ProductQuery:
    """What a shopper asked for; every field optional."""

    text: str = ""
    category: UUID | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    seller: UUID | None = None
    min_rating: Decimal | None = None
    ordering: str | None = None


def filters(query: ProductQuery) -> list[dict[str, Any]]:
    """Non-scoring clauses: only buyable products, then whatever the shopper narrowed to."""
    clauses: list[dict[str, Any]] = [{"term": {"discontinued": False}}]
    if query.category is not None:
        clauses.append({"term": {"category_path": str(query.category)}})
    price = {
        bound: float(value)
        for bound, value in (("gte", query.min_price), ("lte", query.max_price))
        if value is not None
    }
    if price:
        clauses.append({"range": {"price": price}})
    if query.in_stock:
        clauses.append({"range": {"stock_available": {"gt": 0}}})
    if query.seller is not None:
        clauses.append({"term": {"seller_id": str(query.seller)}})
    if query.min_rating is not None:
        clauses.append({"range": {"rating_average": {"gte": float(query.min_rating)}}})
    return clauses


def full_text(query: ProductQuery, fuzzy: bool = False) -> dict[str, Any]:
    if not query.text:
        return {"match_all": {}}
    match: dict[str, Any] = {
        "query": query.text,
        "fields": ["name^3", "description", "category_names^2"],
    }
    if fuzzy:
        match["fuzziness"] = "AUTO"
    return {"multi_match": match}


def sort(query: ProductQuery) -> list[Any]:
    ordering = query.ordering or ("relevance" if query.text else "-created")
    by: dict[str, list[Any]] = {
        "price": [{"price": "asc"}],
        "-price": [{"price": "desc"}],
        "-rating": [
            {"rating_average": {"order": "desc", "missing": "_last"}},
            {"rating_count": "desc"},
        ],
        "-created": [{"created_at": "desc"}],
        "relevance": ["_score", {"created_at": "desc"}],
    }
    return [*by[ordering], TIE_BREAK]


def search_body(query: ProductQuery, *, fuzzy: bool = False) -> dict[str, Any]:
    return {
        "query": {"bool": {"must": [full_text(query, fuzzy)], "filter": filters(query)}},
        "sort": sort(query),
        "track_total_hits": True,
    }


PRICE_RANGES = [
    {"key": "under_10", "to": 10},
    {"key": "10_to_25", "from": 10, "to": 25},
    {"key": "25_to_50", "from": 25, "to": 50},
    {"key": "50_to_100", "from": 50, "to": 100},
    {"key": "100_and_up", "from": 100},
]
RATING_BUCKETS = [{"key": f"{n}_and_up", "from": n} for n in (4, 3, 2, 1)]


def facets_body() -> dict[str, Any]:
    """Counts of the matching products by category (subtrees included), price and rating."""
    return {
        "categories": {"terms": {"field": "category_path", "size": 50}},
        "price_ranges": {"range": {"field": "price", "ranges": PRICE_RANGES}},
        "ratings": {"range": {"field": "rating_average", "ranges": RATING_BUCKETS}},
    }
