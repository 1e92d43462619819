"""The Product aggregate: catalog data, price and stock of one sellable item."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import ValidationFailed
from write_api.domain.metadata import CommandContext

NAME_MAX = 200
DESCRIPTION_MAX = 5_000


def check_product_fields(*, name: str, description: str, price: Decimal, stock: int) -> None:
    """Raise ValidationFailed naming every field that breaks a catalog rule."""
    errors: dict[str, list[str]] = {}
    if not 1 <= len(name.strip()) <= NAME_MAX:
        errors["name"] = [f"Must be 1 to {NAME_MAX} characters."]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"Must be at most {DESCRIPTION_MAX} characters."]
    if not _is_valid_price(price):
        errors["price"] = ["Must be greater than 0 with at most 2 decimal places."]
    if stock < 0:
        errors["stock"] = ["Must be a non-negative integer."]
    if errors:
        raise ValidationFailed("The product is invalid.", errors)


def _is_valid_price(price: Decimal) -> bool:
    try:
        return price.is_finite() and price > 0 and price == price.quantize(Decimal("0.01"))
    except InvalidOperation:
        return False


class Product(Aggregate):
    """A sellable item owned by one seller."""

    # Stable stored names, independent of module paths: every event class names its own.
    TOPIC = "shopstream.product"

    @classmethod
    def create(
        cls,
        *,
        name: str,
        description: str,
        price: Decimal,
        category_id: UUID | None,
        stock: int,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> Product:
        check_product_fields(name=name, description=description, price=price, stock=stock)
        return cls(
            name=name.strip(),
            description=description,
            price=price.quantize(Decimal("0.01")),
            category_id=category_id,
            stock=stock,
            seller_id=seller_id,
            metadata=context.as_event_metadata(),
        )

    @event("Created", topic="shopstream.product.Created")
    def __init__(
        self,
        *,
        name: str,
        description: str,
        price: Decimal,
        category_id: UUID | None,
        stock: int,
        seller_id: UUID | None,
        metadata: dict[str, str | None],
    ) -> None:
        self.name = name
        self.description = description
        self.price = price
        self.category_id = category_id
        self.stock = stock
        self.reserved = 0
        self.seller_id = seller_id
        self.discontinued = False
