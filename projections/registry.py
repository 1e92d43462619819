"""The projectors of this deployment, built with their clients (the composition root)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from adapters.clients import opensearch_client
from projections.audit.projector import AuditProjector
from projections.catalog.projector import CatalogProjector
from projections.catalog.search_index import SearchIndex
from projections.consumer import Projector
from projections.notifications.projector import NotificationsProjector
from projections.shopping.projector import ShoppingProjector
from projections.tasks import send_order_email

# Below the consumer's max poll interval: a stalled OpenSearch costs the loop one timeout
# per attempt, and the member keeps its partitions while it retries.
OPENSEARCH_TIMEOUT_SECONDS = 3.0

PROJECTORS: dict[str, Callable[[], Projector]] = {
    "catalog": lambda: CatalogProjector(
        SearchIndex(opensearch_client(OPENSEARCH_TIMEOUT_SECONDS), settings.SHOPSTREAM_NAMESPACE)
    ),
    "shopping": ShoppingProjector,
    "audit": AuditProjector,
    "notifications": lambda: NotificationsProjector(send_order_email.delay),
}

# What each projector reads, known without building it (its clients): lag is counted in these.
AGGREGATE_TYPES_BY_PROJECTOR: dict[str, tuple[str, ...]] = {
    projector.name: tuple(projector.aggregate_types)
    for projector in (CatalogProjector, ShoppingProjector, AuditProjector, NotificationsProjector)
}


def build_projector(name: str) -> Projector:
    """A fresh projector by name; KeyError if there is none of that name."""
    return PROJECTORS[name]()
