"""The event-sourced shop application: every command, grouped by module, in one Shop.

Each group is a ShopStore subclass (write_api/store.py holds the loads and the one
load-decide-save loop); Shop composes them, so one connection pool and one transaction
per command serve them all.
"""

from __future__ import annotations

from write_api.account_commands import AccountCommands
from write_api.catalog_commands import CatalogCommands
from write_api.order_payments import OrderPaymentCommands
from write_api.ordering import OrderingCommands
from write_api.results import UNCHANGED, Saved, StockLevel, Unchanged

__all__ = ["UNCHANGED", "Saved", "Shop", "StockLevel", "Unchanged"]


class Shop(CatalogCommands, AccountCommands, OrderingCommands, OrderPaymentCommands):
    """Commands on accounts, the category tree, the catalog, carts, orders and payments."""

    name = "shopstream"
