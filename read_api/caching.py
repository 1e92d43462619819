"""Redis-cached reads keyed on generations the projectors move: never stale after a projection.

A key embeds the generations of everything the entry was built from; a projector
bumps a generation after its commit, so the old entry is simply never asked for
again (its TTL only bounds memory, not correctness).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

from django.core.cache import cache

from projections.catalog import cache_keys
from read_api.selectors import product_get

MEMORY_TTL = 24 * 3600
_MISSING = {"__missing__": True}


def product_detail(product_id: UUID) -> tuple[dict[str, Any] | None, str]:
    """The product body (None if there is none) and its ETag."""
    product_generation = cache_keys.product_key(str(product_id))
    generations = cache.get_many([product_generation, cache_keys.CATEGORY_TREE])
    product_gen = generations.get(product_generation, 0)
    tree_gen = generations.get(cache_keys.CATEGORY_TREE, 0)
    key = f"product:{product_id}:{product_gen}:{tree_gen}"
    body = cache.get(key)
    if body is None:
        body = product_get(product_id) or _MISSING
        cache.set(key, body, MEMORY_TTL)
    found = None if body == _MISSING else body
    return found, etag(found)


def etag(body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'
