"""The event-sourced shop application: one keyword-only method per command."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from write_api.domain.errors import NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.product import Product


@dataclass(frozen=True)
class Saved:
    """What a command returns: the aggregate id and its new version."""

    id: UUID
    version: int


class Shop(Application[UUID]):
    """Commands on the catalog; persistence is chosen by the environment."""

    name = "shopstream"

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

    def get_product(self, product_id: UUID) -> Product:
        try:
            product: Product = self.repository.get(product_id)
        except AggregateNotFoundError:
            raise NotFound(f"Product {product_id} does not exist.") from None
        return product
