"""Redis-cached reads keyed on generations the projectors move: never stale after a projection.

A key embeds the generations of everything the entry was built from; a projector
bumps a generation after its commit, so the old entry is simply never asked for
again (its TTL only bounds memory, not correctness).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.core.cache import cache

from projections.catalog import cache_keys
from read_api.selectors import product_get

MEMORY_TTL = 24 * 3600
_MISSING = {"__missing__": True}


def product_detail(product_id: UUID, *, fresh: bool = False) -> tuple[dict[str, Any] | None, str]:
    """The product body (None if there is none) and its ETag.

    `fresh` reads past the cache: a reader that waited for a version must not get
    an entry from the instant between the projector's commit and its generation bump.
    """
    product_generation = cache_keys.product_key(str(product_id))
    generations = cache.get_many([product_generation, cache_keys.CATEGORY_TREE])
    product_gen = generations.get(product_generation, 0)
    tree_gen = generations.get(cache_keys.CATEGORY_TREE, 0)
    key = f"product:{product_id}:{product_gen}:{tree_gen}"
    entry = None if fresh else cache.get(key)
    if entry is None:
        found = product_get(product_id)
        entry = (found or _MISSING, etag(found))  # hashed once per version, not per request
        cache.set(key, entry, MEMORY_TTL)
    body, tag = entry
    return (None if body == _MISSING else body), tag


def etag(body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


def search_page(
    request_params: dict[str, Any], build: Callable[[], dict[str, Any]], *, fresh: bool = False
) -> dict[str, Any]:
    """A search result page, cached until the catalog projector applies any change."""
    generation = cache_keys.generation(cache_keys.SEARCH_RESULTS)
    fingerprint = hashlib.sha256(
        json.dumps(request_params, sort_keys=True, default=str).encode()
    ).hexdigest()
    key = f"search:{generation}:{fingerprint}"
    page = None if fresh else cache.get(key)
    if page is None:
        page = build()
        cache.set(key, page, MEMORY_TTL)
    return dict(page)
