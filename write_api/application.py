"""The event-sourced shop application: every command, grouped by module, in one Shop,
persisted in the PostgreSQL of DATABASES['default'].

Each group is a ShopStore subclass (write_api/store.py holds the loads and the one
load-decide-save loop); Shop composes them, so one connection pool and one transaction
per command serve them all. `shop()` is the process-wide instance.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from write_api.account_commands import AccountCommands
from write_api.catalog_commands import CatalogCommands
from write_api.order_payments import OrderPaymentCommands
from write_api.ordering import OrderingCommands
from write_api.results import UNCHANGED, CartLines, Saved, StockLevel, Unchanged

__all__ = ["UNCHANGED", "CartLines", "Saved", "Shop", "StockLevel", "Unchanged", "shop"]


class Shop(CatalogCommands, AccountCommands, OrderingCommands, OrderPaymentCommands):
    """Commands on accounts, the category tree, the catalog, carts, orders and payments."""

    name = "shopstream"


def event_store_env(database: dict[str, Any] | None = None, **overrides: str) -> dict[str, str]:
    """eventsourcing settings for the database Django uses (same server, same database)."""
    db: Mapping[str, Any] = database or settings.DATABASES["default"]
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": db["NAME"],
        "POSTGRES_HOST": db["HOST"] or "127.0.0.1",
        "POSTGRES_PORT": str(db["PORT"] or 5432),
        "POSTGRES_USER": db["USER"] or "postgres",
        "POSTGRES_PASSWORD": db["PASSWORD"] or "",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_LOCK_TIMEOUT": "5",
        # Off on purpose: with DB functions on, inserts skip the table lock that keeps
        # commit order equal to notification-id order (ARCHITECTURE.md).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        # Tables are created once by `prepare_stack`, not raced for by every process.
        "CREATE_TABLE": "n",
    }
    env.update(overrides)
    return env


@functools.cache
def shop() -> Shop:
    """The process-wide application; its connection pool is shared by request threads."""
    return Shop(env=event_store_env())


def create_event_store_tables() -> Shop:
    return Shop(env=event_store_env(CREATE_TABLE="y"))
