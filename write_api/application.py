"""The event-sourced shop application: one keyword-only method per command."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from write_api.domain.account import Account
from write_api.domain.category import TREE_ID, CategoryTree
from write_api.domain.errors import ConcurrentChange, NotFound, field_error
from write_api.domain.metadata import CommandContext
from write_api.domain.product import Product
from write_api.order_payments import OrderPaymentCommands
from write_api.ordering import OrderingCommands
from write_api.results import UNCHANGED, Saved, StockLevel, Unchanged

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
ATTEMPTS = 8


class Shop(OrderPaymentCommands, OrderingCommands, Application[UUID]):
    """Commands on accounts, the category tree, the catalog, carts and orders."""

    name = "shopstream"

    # -- products ---------------------------------------------------------------
    def create_product(
        self,
        *,
        name: str,
        description: str,
        price: Decimal,
        category_id: UUID | None,
        stock: int,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> Saved:
        self._check_category(category_id)
        product = Product.create(
            name=name,
            description=description,
            price=price,
            category_id=category_id,
            stock=stock,
            seller_id=seller_id,
            context=context,
        )
        self.save(product)
        return Saved(product.id, product.version)

    def change_product(
        self,
        product_id: UUID,
        *,
        name: str | None = None,
        description: str | None = None,
        price: Decimal | None = None,
        category_id: UUID | Unchanged | None = UNCHANGED,
        context: CommandContext,
    ) -> Saved:
        """Apply every given change at once (one transaction), retrying on a concurrent write."""
        if not isinstance(category_id, Unchanged):
            self._check_category(category_id)

        def change(product: Product) -> None:
            product.change_details(name=name, description=description, context=context)
            if price is not None:
                product.reprice(price=price, context=context)
            if not isinstance(category_id, Unchanged):
                product.recategorize(category_id=category_id, context=context)

        return self._update(self.get_product, product_id, change)

    def adjust_stock(self, product_id: UUID, *, delta: int, context: CommandContext) -> StockLevel:
        levels: list[StockLevel] = []

        def adjust(product: Product) -> None:
            product.adjust_stock(delta=delta, context=context)
            levels[:] = [StockLevel(product.id, product.version, product.stock, product.reserved)]

        self._update(self.get_product, product_id, adjust)
        return levels[0]

    def discontinue_product(self, product_id: UUID, *, context: CommandContext) -> Saved:
        return self._update(self.get_product, product_id, lambda p: p.discontinue(context=context))

    def get_product(self, product_id: UUID) -> Product:
        return self._get(product_id, Product, "Product")

    # -- categories -------------------------------------------------------------
    def add_category(
        self, *, name: str, parent_id: UUID | None, context: CommandContext
    ) -> tuple[UUID, Saved]:
        added: list[UUID] = []

        def add(tree: CategoryTree) -> None:
            added[:] = [tree.add(name=name, parent_id=parent_id, context=context)]

        saved = self._update(self._tree_or_new, TREE_ID, add)
        return added[0], saved

    def change_category(
        self,
        category_id: UUID,
        *,
        name: str | None = None,
        parent_id: UUID | Unchanged | None = UNCHANGED,
        context: CommandContext,
    ) -> Saved:
        def change(tree: CategoryTree) -> None:
            if name is not None:
                tree.rename(category_id=category_id, name=name, context=context)
            if not isinstance(parent_id, Unchanged):
                tree.move(category_id=category_id, parent_id=parent_id, context=context)

        return self._update(self._tree_or_new, TREE_ID, change)

    def category_tree(self) -> CategoryTree:
        return self._tree_or_new(TREE_ID)

    # -- accounts ---------------------------------------------------------------
    def register_account(
        self,
        *,
        user_id: UUID,
        email: str,
        role: str,
        context: CommandContext,
        display_name: str = "",
    ) -> Saved:
        account = Account.register(
            user_id=user_id, email=email, role=role, display_name=display_name, context=context
        )
        self.save(account)
        return Saved(account.id, account.version)

    def change_role(self, user_id: UUID, *, role: str, context: CommandContext) -> Saved:
        return self._update(
            self.get_account, user_id, lambda a: a.change_role(role=role, context=context)
        )

    def deactivate_account(self, user_id: UUID, *, context: CommandContext) -> Saved:
        return self._update(self.get_account, user_id, lambda a: a.deactivate(context=context))

    def reactivate_account(self, user_id: UUID, *, context: CommandContext) -> Saved:
        return self._update(self.get_account, user_id, lambda a: a.reactivate(context=context))

    def get_account(self, user_id: UUID) -> Account:
        return self._get(user_id, Account, "Account")

    # -- helpers ----------------------------------------------------------------
    attempts = ATTEMPTS

    def _update(
        self,
        load: Callable[[UUID], A],
        aggregate_id: UUID,
        change: Callable[[A], list[Any] | None],
    ) -> Saved:
        """Load, decide, save with optimistic concurrency; a lost race is retried a few times.

        `change` may return other aggregates it changed: they are saved in the same transaction.
        """
        for attempt in range(1, ATTEMPTS + 1):
            aggregate = load(aggregate_id)
            others = change(aggregate)
            try:
                self.save(aggregate, *(others if isinstance(others, list) else []))
            except RecordConflictError:
                self._back_off(attempt)
                continue
            return Saved(aggregate.id, aggregate.version)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _back_off(attempt: int) -> None:
        """Jittered sleep after a lost race, so racing writers stop colliding in lockstep."""
        if attempt >= ATTEMPTS:
            raise ConcurrentChange("The resource changed concurrently too often; try again.")
        time.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 - not security

    def _get(self, aggregate_id: UUID, kind: type[A], label: str) -> A:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{label} {aggregate_id} does not exist.") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{label} {aggregate_id} does not exist.")
        return aggregate

    def _tree_or_new(self, tree_id: UUID) -> CategoryTree:
        try:
            tree: CategoryTree = self.repository.get(tree_id)
        except AggregateNotFoundError:
            return CategoryTree()
        return tree

    def _check_category(self, category_id: UUID | None) -> None:
        if category_id is not None and category_id not in self.category_tree().nodes:
            raise field_error("category_id", f"Category {category_id} does not exist.")
