"""Catalog commands: products, their stock, and the category tree."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from write_api.domain.category import TREE_ID, CategoryTree
from write_api.domain.errors import field_error
from write_api.domain.metadata import CommandContext
from write_api.domain.product import Product
from write_api.results import UNCHANGED, Saved, StockLevel, Unchanged
from write_api.store import Decision, ShopStore


class CatalogCommands(ShopStore):
    """Sellers' and admins' changes to what is sold and how it is organised."""

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

        def adjust(product: Product) -> Decision[StockLevel]:
            product.adjust_stock(delta=delta, context=context)
            level = StockLevel(product.id, product.version, product.stock, product.reserved)
            return Decision(level)

        _, level = self._decide(self.get_product, product_id, adjust)
        return level

    def discontinue_product(self, product_id: UUID, *, context: CommandContext) -> Saved:
        return self._update(self.get_product, product_id, lambda p: p.discontinue(context=context))

    # -- categories -------------------------------------------------------------
    def add_category(
        self, *, name: str, parent_id: UUID | None, context: CommandContext
    ) -> tuple[UUID, Saved]:

        def add(tree: CategoryTree) -> Decision[UUID]:
            return Decision(tree.add(name=name, parent_id=parent_id, context=context))

        saved, category_id = self._decide(self._tree_or_new, TREE_ID, add)
        return category_id, saved

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

    def _check_category(self, category_id: UUID | None) -> None:
        if category_id is not None and category_id not in self.category_tree().nodes:
            raise field_error("category_id", f"Category {category_id} does not exist.")
