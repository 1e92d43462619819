"""The `data` of the published events projectors and the read API read, one TypedDict each.

Ids, prices and totals travel as strings (UUIDs and decimals), times as ISO 8601.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class CartCreated(TypedDict):
    customer_id: str


class CartQuantitySet(TypedDict):
    product_id: str
    quantity: int


class CartItemRemoved(TypedDict):
    product_id: str


class OrderLine(TypedDict):
    product_id: str
    name: str
    unit_price: str  # in the order's currency
    quantity: int
    seller_id: str | None
    category_id: str | None  # schema 2: the product's category at checkout (None: none)


class OrderPlaced(TypedDict):
    """Schema 2 (contracts.schemas): `currency` and each line's `category_id` were added;
    a schema 1 payload reads as schema 2 through contracts.schemas.current_data."""

    order_id: str
    customer_id: str
    lines: list[OrderLine]
    total: str
    currency: str  # schema 2: ISO 4217, of the total and every unit price
    shipping_address: dict[str, Any]


class OrderStatusChanged(TypedDict):
    status: str


class OrderCancelled(TypedDict):
    reason: str
    previous: str


class OrderFulfilled(TypedDict):
    """A seller's (or an admin's) parcel: which lines it carries, how it travels."""

    fulfilment_id: str
    product_ids: list[str]
    carrier: str | None
    tracking_number: str | None


class OrderFulfilmentDelivered(TypedDict):
    fulfilment_id: str


class OrderRefundRequested(TypedDict):
    refund_id: str
    amount: str
    reason: str
    product_ids: list[str]
    seller_id: str | None
    restocked: dict[str, int]  # product id -> units put back on sale
    charge_id: str | None


class OrderRefundOutcome(TypedDict):
    """OrderRefundPending and OrderRefundSucceeded (gateway refund id), OrderRefundFailed."""

    refund_id: str
    gateway_refund_id: NotRequired[str]
    reason: NotRequired[str]


class ProductRestocked(TypedDict):
    order_id: str
    quantity: int
    stock: int


class ProductCreated(TypedDict):
    name: str
    description: str
    price: str
    category_id: str | None
    stock: int
    seller_id: str | None


class ProductDetailsChanged(TypedDict):
    name: str
    description: str


class ProductRepriced(TypedDict):
    price: str


class ProductRecategorized(TypedDict):
    category_id: str | None


class ProductStockAdjusted(TypedDict):
    delta: int
    stock: int


class ProductReservation(TypedDict):
    """ProductReserved, ProductReservationReleased and ProductSold."""

    order_id: str
    quantity: int


class CategoryAdded(TypedDict):
    category_id: str
    name: str
    parent_id: str | None


class CategoryRenamed(TypedDict):
    category_id: str
    name: str


class CategoryMoved(TypedDict):
    category_id: str
    parent_id: str | None


class ReviewCreated(TypedDict):
    customer_id: str
    product_id: str
    rating: int
    comment: str
    reviewer_name: NotRequired[str]  # absent from reviews written before names were kept


class EscalationOpened(TypedDict):
    order_id: str
    number: int
    customer_id: str
    seller_ids: list[str]
    reason: str
    message: str


class EscalationMessagePosted(TypedDict):
    """Its author is the envelope's actor."""

    order_id: str
    message: str


class EscalationRefundStarted(TypedDict):
    """A refund resolution claimed the escalation; the refund is made under `refund_id`."""

    order_id: str
    refund_id: str
    amount: str
    restock: bool


class EscalationRefundAbandoned(TypedDict):
    """The refund was refused (`reason` is its code); the escalation is open again."""

    order_id: str
    refund_id: str
    reason: str


class EscalationRefund(TypedDict):
    id: str
    amount: str
    status: str


class EscalationResolved(TypedDict):
    order_id: str
    resolution: str
    message: str
    restock: bool
    refund: EscalationRefund | None
