"""The event-sourced shop application: every command, grouped by module, in one Shop,
persisted in the PostgreSQL of DATABASES['default'].

Each group is a ShopStore subclass (write_api/store.py holds the loads and the one
load-decide-save loop); Shop composes them, so one connection pool and one transaction
per command serve them all. `shop()` is the process-wide instance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Placeholder

from write_api.account_commands import AccountCommands
from write_api.catalog_commands import CatalogCommands
from write_api.escalation_commands import EscalationCommands
from write_api.fulfilling import FulfilmentCommands
from write_api.order_payments import OrderPaymentCommands
from write_api.order_refunds import OrderRefundCommands
from write_api.ordering import OrderingCommands
from write_api.results import UNCHANGED, CartLines, Saved, StockLevel, Unchanged

__all__ = [
    "UNCHANGED",
    "CartLines",
    "RowWithEvents",
    "Saved",
    "Shop",
    "ShopRecorder",
    "StockLevel",
    "Unchanged",
    "shop",
]


class Shop(
    CatalogCommands,
    AccountCommands,
    OrderingCommands,
    OrderPaymentCommands,
    FulfilmentCommands,
    OrderRefundCommands,
    EscalationCommands,
):
    """Commands on accounts, the category tree, the catalog, carts, orders, payments,
    fulfilments, refunds and escalations."""

    name = "shopstream"


@dataclass(frozen=True)
class RowWithEvents:
    """A row of another table (an idempotency record) inserted with a command's events.

    Pass it as `app.save(*aggregates, rows=[...])`: the row commits if and only if the
    events do. A unique violation of `constraint` rolls the events back and raises
    `conflict()` instead of a concurrency conflict (which the command would retry).
    """

    table: str
    values: Mapping[str, object]
    constraint: str
    conflict: Callable[[], Exception]

    def insert(self) -> Composed:
        columns = SQL(", ").join(Identifier(column) for column in self.values)
        placeholders = SQL(", ").join([Placeholder()] * len(self.values))
        return SQL("INSERT INTO {} ({}) VALUES ({})").format(
            Identifier(self.table), columns, placeholders
        )


class ShopRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder; `save(..., rows=...)` also inserts those rows."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        try:
            notification_ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        except IntegrityError as error:
            violated = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
            for row in kwargs.get("rows", ()):
                if row.constraint == violated:
                    raise row.conflict() from error
            raise
        return notification_ids

    def _insert_events(
        self,
        curs: psycopg.Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        # Runs first in the library's transaction, before its table lock: a row that waits
        # for a concurrent duplicate's outcome does not hold up every other writer.
        for row in kwargs.get("rows", ()):
            curs.execute(row.insert(), list(row.values.values()))


def event_store_env(database: dict[str, Any] | None = None, **overrides: str) -> dict[str, str]:
    """eventsourcing settings for the database Django uses (same server, same database)."""
    db: Mapping[str, Any] = database or settings.DATABASES["default"]
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:{ShopRecorder.__name__}",
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
        # Orders record the currency they are priced in (Order.Placed schema 2).
        "SHOP_CURRENCY": settings.CURRENCY,
    }
    env.update(overrides)
    return env


@functools.cache
def shop() -> Shop:
    """The process-wide application; its connection pool is shared by request threads."""
    return Shop(env=event_store_env())


def create_event_store_tables() -> Shop:
    return Shop(env=event_store_env(CREATE_TABLE="y"))
