"""The Product aggregate: catalog data, price and stock of one sellable item."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import Conflict, ValidationFailed
from write_api.domain.limits import (
    DESCRIPTION_MAX,
    PRICE_MAX,
    PRICE_MIN,
    PRODUCT_NAME_MAX,
    STOCK_MAX,
    text_errors,
)
from write_api.domain.metadata import CommandContext

Metadata = dict[str, str | None]


def check_product_fields(
    *,
    name: str | None = None,
    description: str | None = None,
    price: Decimal | None = None,
    stock: int | None = None,
) -> None:
    """Raise ValidationFailed naming every given field that breaks a catalog rule."""
    errors: dict[str, list[str]] = {}
    if name is not None and (
        found := text_errors(name.strip(), min_length=1, max_length=PRODUCT_NAME_MAX)
    ):
        errors["name"] = found
    if description is not None and (
        found := text_errors(description, max_length=DESCRIPTION_MAX, multiline=True)
    ):
        errors["description"] = found
    if price is not None and not _is_valid_price(price):
        errors["price"] = [f"Must be {PRICE_MIN} to {PRICE_MAX} with at most 2 decimal places."]
    if stock is not None and not 0 <= stock <= STOCK_MAX:
        errors["stock"] = [f"Must be 0 to {STOCK_MAX}."]
    if errors:
        raise ValidationFailed("The product is invalid.", errors)


def _is_valid_price(price: Decimal) -> bool:
    try:
        return (
            price.is_finite()
            and PRICE_MIN <= price <= PRICE_MAX
            and price == price.quantize(PRICE_MIN)
        )
    except InvalidOperation:
        return False


class Product(Aggregate):
    """A sellable item owned by one seller."""

    # Stable stored names, independent of module paths: every event class names its own.
    TOPIC = "shopstream.product"
    # The shape of this class's state in snapshots: raise it whenever an attribute is added,
    # dropped or changes type, so snapshots of the old shape are ignored (write_api/snapshots.py).
    class_version = 1

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
        created: Product = cls(
            name=name.strip(),
            description=description,
            price=price.quantize(Decimal("0.01")),
            category_id=category_id,
            stock=stock,
            seller_id=seller_id,
            metadata=context.as_event_metadata(),
        )
        return created

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
        metadata: Metadata,
    ) -> None:
        self.name = name
        self.description = description
        self.price = price
        self.category_id = category_id
        self.stock = stock
        self.reserved = 0
        self.seller_id = seller_id
        self.discontinued = False
        # Open reservations only (order id -> units): selling or releasing removes the entry,
        # so this state and its snapshots grow with the unpaid orders, not with the history.
        self.reservations: dict[UUID, int] = {}

    @property
    def available(self) -> int:
        return 0 if self.discontinued else self.stock - self.reserved

    def change_details(
        self, *, name: str | None, description: str | None, context: CommandContext
    ) -> None:
        """Rename and/or re-describe; unchanged values record nothing."""
        self._check_active()
        check_product_fields(name=name, description=description)
        name = self.name if name is None else name.strip()
        description = self.description if description is None else description
        if (name, description) != (self.name, self.description):
            self._details_changed(
                name=name, description=description, metadata=context.as_event_metadata()
            )

    @event("DetailsChanged", topic="shopstream.product.DetailsChanged")
    def _details_changed(self, *, name: str, description: str, metadata: Metadata) -> None:
        self.name = name
        self.description = description

    def reprice(self, *, price: Decimal, context: CommandContext) -> None:
        self._check_active()
        check_product_fields(price=price)
        if price != self.price:
            self._repriced(
                price=price.quantize(Decimal("0.01")), metadata=context.as_event_metadata()
            )

    @event("Repriced", topic="shopstream.product.Repriced")
    def _repriced(self, *, price: Decimal, metadata: Metadata) -> None:
        self.price = price

    def recategorize(self, *, category_id: UUID | None, context: CommandContext) -> None:
        self._check_active()
        if category_id != self.category_id:
            self._recategorized(category_id=category_id, metadata=context.as_event_metadata())

    @event("Recategorized", topic="shopstream.product.Recategorized")
    def _recategorized(self, *, category_id: UUID | None, metadata: Metadata) -> None:
        self.category_id = category_id

    def adjust_stock(self, *, delta: int, context: CommandContext) -> None:
        """Add or remove units on hand; never fewer than are reserved, never above the maximum."""
        self._check_active()
        if self.stock + delta < self.reserved:
            raise Conflict(
                f"Stock cannot go below the {self.reserved} reserved units "
                f"(on hand {self.stock}, change {delta}).",
                {"delta": [f"At least {self.reserved - self.stock} is required."]},
                code="stock_below_reserved",
            )
        if delta > 0 and self.stock + delta > STOCK_MAX:
            raise Conflict(
                f"Stock cannot go above {STOCK_MAX} units (on hand {self.stock}, change {delta}).",
                {"delta": [f"At most {max(STOCK_MAX - self.stock, 0)} is allowed."]},
                code="stock_above_maximum",
            )
        if delta:
            self._stock_adjusted(
                delta=delta, stock=self.stock + delta, metadata=context.as_event_metadata()
            )

    @event("StockAdjusted", topic="shopstream.product.StockAdjusted")
    def _stock_adjusted(self, *, delta: int, stock: int, metadata: Metadata) -> None:
        self.stock = stock

    def reserve(self, *, order_id: UUID, quantity: int, context: CommandContext) -> None:
        """Hold units for an order; the caller checked `available` for the whole order first."""
        if quantity > self.available:
            raise Conflict(f"Only {self.available} of {self.id} available.", code="out_of_stock")
        self._reserved(order_id=order_id, quantity=quantity, metadata=context.as_event_metadata())

    @event("Reserved", topic="shopstream.product.Reserved")
    def _reserved(self, *, order_id: UUID, quantity: int, metadata: Metadata) -> None:
        self.reservations[order_id] = quantity
        self.reserved += quantity

    def release(self, *, order_id: UUID, context: CommandContext) -> None:
        """Give back an order's held units (cancelled or expired); once only."""
        if order_id in self.reservations:
            self._released(
                order_id=order_id,
                quantity=self.reservations[order_id],
                metadata=context.as_event_metadata(),
            )

    @event("ReservationReleased", topic="shopstream.product.ReservationReleased")
    def _released(self, *, order_id: UUID, quantity: int, metadata: Metadata) -> None:
        del self.reservations[order_id]
        self.reserved -= quantity

    def sell(self, *, order_id: UUID, context: CommandContext) -> None:
        """A paid order's held units leave the shelf: stock and reservation both drop; once only."""
        if order_id in self.reservations:
            self._sold(
                order_id=order_id,
                quantity=self.reservations[order_id],
                metadata=context.as_event_metadata(),
            )

    @event("Sold", topic="shopstream.product.Sold")
    def _sold(self, *, order_id: UUID, quantity: int, metadata: Metadata) -> None:
        del self.reservations[order_id]
        self.reserved -= quantity
        self.stock -= quantity

    def return_to_stock(self, *, order_id: UUID, quantity: int, context: CommandContext) -> None:
        """A refunded order's units go back on sale (the refund decided which, once each)."""
        if quantity > 0:
            self._restocked(
                order_id=order_id,
                quantity=quantity,
                stock=min(self.stock + quantity, STOCK_MAX),
                metadata=context.as_event_metadata(),
            )

    @event("Restocked", topic="shopstream.product.Restocked")
    def _restocked(self, *, order_id: UUID, quantity: int, stock: int, metadata: Metadata) -> None:
        self.stock = stock

    def discontinue(self, *, context: CommandContext) -> None:
        if not self.discontinued:
            self._discontinued(metadata=context.as_event_metadata())

    @event("Discontinued", topic="shopstream.product.Discontinued")
    def _discontinued(self, *, metadata: Metadata) -> None:
        self.discontinued = True

    def _check_active(self) -> None:
        if self.discontinued:
            raise Conflict(f"Product {self.id} is discontinued.", code="product_discontinued")
