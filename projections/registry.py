"""The projectors of this deployment, built with their clients (the composition root)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models import Model

from adapters.clients import opensearch_client
from projections.audit.models import AuditEvent, ProductStateCheckpoint
from projections.audit.projector import AuditProjector
from projections.catalog.models import AggregateVersion, CategoryView, ProductView, ReviewView
from projections.catalog.projector import CatalogProjector
from projections.catalog.replay import Unindexed, catalog_cache_keys, reindex
from projections.catalog.search_index import SearchIndex
from projections.consumer import Projector
from projections.escalations.models import EscalationMessageView, EscalationView
from projections.models import PendingCacheBump
from projections.notifications.projector import NotificationsProjector
from projections.replay.replayer import Replay
from projections.shopping.models import (
    CartLineView,
    CartView,
    OrderFulfilmentView,
    OrderLineView,
    OrderRefundView,
    OrderStatusChange,
    OrderView,
)
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


def tables_of(*read_models: type[Model]) -> tuple[str, ...]:
    return tuple(m._meta.db_table for m in read_models)


# How each projector is replayed from the event store (manage.py replay_projection): built
# without side effects, with every table it writes. A new projector needs an entry here or
# in NOT_REPLAYABLE (tests/unit/test_replay_registry.py says so).
REPLAYS: dict[str, Replay] = {
    "catalog": Replay(
        projector=lambda: CatalogProjector(Unindexed()),
        tables=tables_of(ProductView, CategoryView, ReviewView, AggregateVersion),
        # Cache bumps per batch would only churn Redis: all are bumped once at the switch.
        scratch=tables_of(PendingCacheBump),
        cache_keys=catalog_cache_keys,
        after_switch=reindex,
    ),
    "shopping": Replay(
        projector=ShoppingProjector,
        tables=tables_of(
            CartView,
            CartLineView,
            OrderView,
            OrderLineView,
            OrderStatusChange,
            OrderFulfilmentView,
            OrderRefundView,
            EscalationView,
            EscalationMessageView,
        ),
    ),
    "audit": Replay(projector=AuditProjector, tables=tables_of(AuditEvent, ProductStateCheckpoint)),
}
NOT_REPLAYABLE: dict[str, str] = {
    "notifications": "it has no read model: its effects are emails and tasks, which a replay "
    "must not send again",
}
