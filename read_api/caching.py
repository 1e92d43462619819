"""Redis-cached reads checked against generations the projectors move: never stale.

An entry records the generations of everything it was built from, and is served only
while they are still the current ones; a projector bumps a generation after its commit,
so an entry built before is never served again (its TTL only bounds memory, not
correctness). The entry and the current generations come back in one MGET: a cached
read is one Redis round trip.

Redis is an optimisation here, never a dependency: when it fails or stalls, the
request reads PostgreSQL (see BestEffortCache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import structlog
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer

from projections.catalog import cache_keys
from read_api.selectors import category_list_tree, product_get

MEMORY_TTL = 24 * 3600
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

    def read(self, key: str, generation_keys: Sequence[str]) -> tuple[list[int], Any] | None:
        """The current generation of each key (0 if never bumped) and the entry under `key`
        (None if there is none), read at one instant; None if Redis failed."""
        found = self._call(lambda: self.cache.get_many([*generation_keys, key]))
        if found is None:
            return None
        return [int(found.get(k) or 0) for k in generation_keys], found.get(key)

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


def product_detail(product_id: UUID, *, fresh: bool = False) -> tuple[bytes | None, str]:
    """The product as the JSON body the API answers (None if there is none) and its ETag.

    Both are made once per version, not per request. `fresh` reads past the cache: a
    reader that waited for a version must not get an entry from the instant between the
    projector's commit and its generation bump.
    """

    def build() -> tuple[bytes | None, str]:
        found = product_get(product_id)
        return (None if found is None else JSONRenderer().render(found)), etag(found)

    body, tag = cached(
        f"product:{product_id}",
        [cache_keys.product_key(str(product_id)), cache_keys.CATEGORY_TREE],
        build,
        fresh=fresh,
    )
    return body, tag


def etag(body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


def search_page(
    request_params: dict[str, Any], build: Callable[[], dict[str, Any]], *, fresh: bool = False
) -> dict[str, Any]:
    """A search result page, cached until the catalog projector applies any change."""
    fingerprint = hashlib.sha256(
        json.dumps(request_params, sort_keys=True, default=str).encode()
    ).hexdigest()
    return dict(cached(f"search:{fingerprint}", [cache_keys.SEARCH_RESULTS], build, fresh=fresh))


def category_tree() -> list[dict[str, Any]]:
    """The whole tree, cached until the catalog projector moves the tree's generation."""
    return list(cached("categories:tree", [cache_keys.CATEGORY_TREE], category_list_tree, None))


def cached(
    key: str,
    generation_keys: Sequence[str],
    build: Callable[[], Any],
    timeout: int | None = MEMORY_TTL,
    *,
    fresh: bool = False,
) -> Any:
    """The value under `key` if it was built under the current generations of
    `generation_keys`; otherwise (or when `fresh` is asked) built now and stored with them.

    Without Redis the value is built and not stored. A writer that read older generations
    may overwrite a newer entry: the next reader then finds generations that do not match
    and builds again, so a race costs a miss, never a stale answer.
    """
    cache = BestEffortCache()
    found = cache.read(key, generation_keys)
    if found is None:
        return build()
    generations, entry = found
    if not fresh and isinstance(entry, tuple) and entry[0] == generations:
        return entry[1]
    value = build()
    cache.set(key, (generations, value), timeout)
    return value
