"""Cache generations the catalog projector moves forward and the read API keys its cache on.

Bumping a generation makes every cached entry built under the old one unreachable,
so invalidation never depends on a TTL or on listing keys. The projector records the
keys to bump in an outbox with its rows (projections.cache_outbox); they reach Redis
after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django_redis import get_redis_connection

CATEGORY_TREE = "gen:categories"
# Any change a search could show (product, category, rating): cached result pages expire.
SEARCH_RESULTS = "gen:search"


def product_key(product_id: str) -> str:
    return f"gen:product:{product_id}"


def generation(key: str) -> int:
    return int(cache.get(key) or 0)


def bump(key: str) -> None:
    bump_many([key])


def bump_many(keys: Iterable[str]) -> None:
    """Move generations forward in one round trip; a missing key starts at 1, with no TTL.

    Raw INCR on the cache's own keys: django-redis stores integers unencoded, so
    `generation` reads what this writes.
    """
    keys = sorted(set(keys))
    if not keys:
        return
    pipe = get_redis_connection("default").pipeline(transaction=False)
    for key in keys:
        pipe.incr(cache.make_key(key))
    pipe.execute()
