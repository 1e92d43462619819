"""Data many tests share, and the one builder of products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from write_api.application import Saved, Shop
from write_api.domain.metadata import CommandContext

ADDRESS = {
    "name": "Ann",
    "line1": "1 Main St",
    "city": "Springfield",
    "postcode": "12345",
    "country": "US",
}
PASSWORD = "correct-horse-battery-staple"
CONTEXT = CommandContext(actor_id="a1", actor_role="seller", request_id="r1", correlation_id="r1")


def product_fields(**overrides: Any) -> dict[str, Any]:
    """Every field `Shop.create_product` takes: a valid product, changed by `overrides`."""
    fields: dict[str, Any] = {
        "name": "Blue mug",
        "description": "Holds tea.",
        "price": Decimal("12.50"),
        "category_id": None,
        "stock": 3,
        "seller_id": uuid4(),
        "context": CONTEXT,
    }
    fields.update(overrides)
    return fields


def create_product(shop: Shop, **overrides: Any) -> Saved:
    return shop.create_product(**product_fields(**overrides))


def create_products(shop: Shop, count: int, name: str = "Item") -> list[UUID]:
    return [
        create_product(
            shop,
            name=f"{name} {i}",
            description="",
            price=Decimal("1.00"),
            stock=1,
            seller_id=None,
            context=CommandContext(request_id=f"req-{i}"),
        ).id
        for i in range(count)
    ]


def add_category(shop: Shop, name: str, parent_id: UUID | None = None) -> UUID:
    category_id, _ = shop.add_category(name=name, parent_id=parent_id, context=CONTEXT)
    return category_id
