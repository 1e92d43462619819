"""Cache generations the catalog projector moves forward and the read API keys its cache on.

Bumping a generation makes every cached entry built under the old one unreachable,
so invalidation never depends on a TTL or on listing keys.
"""

from __future__ import annotations

from django.core.cache import cache

CATEGORY_TREE = "gen:categories"
# Any change a search could show (product, category, rating): cached result pages expire.
SEARCH_RESULTS = "gen:search"


def product_key(product_id: str) -> str:
    return f"gen:product:{product_id}"


def generation(key: str) -> int:
    return int(cache.get(key) or 0)


def bump(key: str) -> None:
    """Move a generation forward; a missing key starts from a fresh random-free value."""
    try:
        cache.incr(key)
    except ValueError:
        cache.add(key, 1, timeout=None)
        cache.incr(key)
