"""What replaying the catalog takes beyond its rows: no index writes while replaying, then a
new index generation once the rows are switched in, and every cached page invalidated."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

from adapters.clients import opensearch_client
from projections.catalog import cache_keys
from projections.catalog.models import ProductView
from projections.catalog.rebuild import rebuild_search_index
from projections.catalog.search_index import SearchIndex
from write_api.published_events import EventLog

# An operator's batch job, not a shopper's request: a search server slowed by a busy
# machine must not fail the whole rebuild halfway.
BATCH_TIMEOUT_SECONDS = 60.0


class Unindexed:
    """The catalog projector's index while its rows are replayed: writes go nowhere.

    The index gets its own new generation from the store after the switch (the alias swap
    of `rebuild_search_index`); until then the live projector keeps the current one.
    """

    def write(
        self,
        documents: Iterable[dict[str, Any]],
        index: str | None = None,
        version_type: str = "external",
    ) -> int:
        return 0


def catalog_cache_keys() -> list[str]:
    """Every generation a page built from the old rows was cached under."""
    products = ProductView.objects.values_list("id", flat=True)
    return [
        cache_keys.SEARCH_RESULTS,
        cache_keys.CATEGORY_TREE,
        *(cache_keys.product_key(str(p)) for p in products.iterator()),
    ]


def batch_search_index() -> SearchIndex:
    return SearchIndex(opensearch_client(BATCH_TIMEOUT_SECONDS), settings.SHOPSTREAM_NAMESPACE)


def reindex(app: EventLog, progress: Callable[[int, int], None] | None) -> None:
    """A new index generation from the store, behind the alias once complete."""
    rebuild_search_index(app, batch_search_index(), progress)
