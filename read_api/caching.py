"""Redis-cached reads keyed on generations the projectors move: never stale after a projection.

A key embeds the generations of everything the entry was built from; a projector
bumps a generation after its commit, so the old entry is simply never asked for
again (its TTL only bounds memory, not correctness).

Redis is an optimisation here, never a dependency: when it fails or stalls, the
request reads PostgreSQL (see BestEffortCache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog
from django.core.cache import caches
from redis.exceptions import RedisError

from projections.catalog import cache_keys
from read_api.selectors import category_list_tree, product_get

MEMORY_TTL = 24 * 3600
_MISSING = {"__missing__": True}
log = structlog.get_logger("shopstream.cache")


class BestEffortCache:
    """The cache as one request sees it: a Redis failure is a miss, and the rest of the
    request leaves Redis alone, so a stalled Redis costs one short timeout at most.

    Once a read has failed nothing is read or written again: an entry found under
    generations that could not be read could be stale.
    """

    def __init__(self) -> None:
        self.cache = caches["best_effort"]  # short socket timeouts (settings)
        self.available = True

    def generations(self, *keys: str) -> list[int] | None:
        """The current generation of each key (0 if never bumped); None if Redis failed."""
        found = self._call(lambda: self.cache.get_many(list(keys)))
        return None if found is None else [int(found.get(k) or 0) for k in keys]

    def get(self, key: str) -> Any:
        return self._call(lambda: self.cache.get(key))

    def set(self, key: str, value: Any, timeout: int | None = MEMORY_TTL) -> None:
        self._call(lambda: self.cache.set(key, value, timeout))

    def _call(self, operation: Callable[[], Any]) -> Any:
        if not self.available:
            return None
        try:
            return operation()
        except RedisError as error:
            self.available = False
            log.warning("cache_unavailable", error=repr(error))
            return None


def product_detail(product_id: UUID, *, fresh: bool = False) -> tuple[dict[str, Any] | None, str]:
    """The product body (None if there is none) and its ETag.

    `fresh` reads past the cache: a reader that waited for a version must not get
    an entry from the instant between the projector's commit and its generation bump.
    """

    def build() -> tuple[dict[str, Any], str]:
        found = product_get(product_id)
        return (found or _MISSING, etag(found))  # hashed once per version, not per request

    cache = BestEffortCache()
    product_generation = cache_keys.product_key(str(product_id))
    generations = cache.generations(product_generation, cache_keys.CATEGORY_TREE)
    if generations is None:
        body, tag = build()
    else:
        key = f"product:{product_id}:{generations[0]}:{generations[1]}"
        body, tag = cached(cache, key, build, fresh=fresh)
    return (None if body == _MISSING else body), tag


def etag(body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


def search_page(
    request_params: dict[str, Any], build: Callable[[], dict[str, Any]], *, fresh: bool = False
) -> dict[str, Any]:
    """A search result page, cached until the catalog projector applies any change."""
    cache = BestEffortCache()
    generations = cache.generations(cache_keys.SEARCH_RESULTS)
    if generations is None:
        return build()
    fingerprint = hashlib.sha256(
        json.dumps(request_params, sort_keys=True, default=str).encode()
    ).hexdigest()
    return dict(cached(cache, f"search:{generations[0]}:{fingerprint}", build, fresh=fresh))


def category_tree() -> list[dict[str, Any]]:
    """The whole tree, cached until the catalog projector moves the tree's generation."""
    cache = BestEffortCache()
    generations = cache.generations(cache_keys.CATEGORY_TREE)
    if generations is None:
        return category_list_tree()
    return list(cached(cache, f"categories:tree:{generations[0]}", category_list_tree, None))


def cached(
    cache: BestEffortCache,
    key: str,
    build: Callable[[], Any],
    timeout: int | None = MEMORY_TTL,
    *,
    fresh: bool = False,
) -> Any:
    """The entry under `key`, built and stored when missing (or when `fresh` is asked)."""
    entry = None if fresh else cache.get(key)
    if entry is None:
        entry = build()
        cache.set(key, entry, timeout)
    return entry
