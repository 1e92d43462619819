"""The Cart aggregate: one per customer, product quantities until checkout."""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import Conflict, NotFound, ValidationFailed, field_error
from write_api.domain.limits import CART_LINES_MAX as MAX_LINES
from write_api.domain.limits import QUANTITY_MAX as MAX_QUANTITY
from write_api.domain.metadata import CommandContext

CART_NAMESPACE = uuid.UUID("9a0d3b59-3f0e-4a40-8e38-58f4a5c4fd27")
Metadata = dict[str, str | None]


def cart_id(customer_id: UUID) -> UUID:
    """A customer has exactly one cart, found by their id."""
    return uuid.uuid5(CART_NAMESPACE, str(customer_id))


def check_quantity(quantity: int, *, allow_zero: bool) -> None:
    low = 0 if allow_zero else 1
    if not low <= quantity <= MAX_QUANTITY:
        raise field_error("quantity", f"Must be {low} to {MAX_QUANTITY}.")


class Cart(Aggregate):
    """What a customer intends to buy: product id -> quantity, at most 100 lines."""

    TOPIC = "shopstream.cart"
    # The shape of this class's state in snapshots: raise it whenever an attribute is added,
    # dropped or changes type, so snapshots of the old shape are ignored (write_api/snapshots.py).
    class_version = 1

    @staticmethod
    def create_id(customer_id: UUID, **_: object) -> UUID:
        return cart_id(customer_id)

    @event("Created", topic="shopstream.cart.Created")
    def __init__(self, *, customer_id: UUID) -> None:
        self.customer_id = customer_id
        self.lines: dict[UUID, int] = {}

    def add(self, *, product_id: UUID, quantity: int, context: CommandContext) -> None:
        """Add units of a product; the line's total stays within 1..99."""
        check_quantity(quantity, allow_zero=False)
        current = self.lines.get(product_id, 0)
        if current + quantity > MAX_QUANTITY:
            raise field_error("quantity", f"A line holds at most {MAX_QUANTITY} units.")
        if not current and len(self.lines) >= MAX_LINES:
            raise Conflict(f"A cart holds at most {MAX_LINES} lines.", code="cart_full")
        self._quantity_set(
            product_id=product_id, quantity=current + quantity, metadata=context.as_event_metadata()
        )

    def set_quantity(self, *, product_id: UUID, quantity: int, context: CommandContext) -> None:
        """Change a line's quantity; 0 removes it."""
        check_quantity(quantity, allow_zero=True)
        self._require_line(product_id)
        if quantity == 0:
            self.remove(product_id=product_id, context=context)
        elif quantity != self.lines[product_id]:
            self._quantity_set(
                product_id=product_id, quantity=quantity, metadata=context.as_event_metadata()
            )

    @event("QuantitySet", topic="shopstream.cart.QuantitySet")
    def _quantity_set(self, *, product_id: UUID, quantity: int, metadata: Metadata) -> None:
        self.lines[product_id] = quantity

    def remove(self, *, product_id: UUID, context: CommandContext) -> None:
        self._require_line(product_id)
        self._removed(product_id=product_id, metadata=context.as_event_metadata())

    @event("ItemRemoved", topic="shopstream.cart.ItemRemoved")
    def _removed(self, *, product_id: UUID, metadata: Metadata) -> None:
        del self.lines[product_id]

    def check_out(self, *, order_id: UUID, context: CommandContext) -> None:
        """Empty the cart into an order."""
        if not self.lines:
            raise ValidationFailed("The cart is empty.", code="cart_empty")
        self._checked_out(order_id=order_id, metadata=context.as_event_metadata())

    @event("CheckedOut", topic="shopstream.cart.CheckedOut")
    def _checked_out(self, *, order_id: UUID, metadata: Metadata) -> None:
        self.lines = {}

    def _require_line(self, product_id: UUID) -> None:
        if product_id not in self.lines:
            raise NotFound(f"Product {product_id} is not in the cart.")
