"""The Order aggregate: what was bought, for how much, and where it is in its life."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contracts.schemas import order_placed_v1_v2
from write_api.domain import fulfilment as parcels
from write_api.domain import order_fulfilment, order_lifecycle, payment_attempts, refund_requests
from write_api.domain.cart import Cart
from write_api.domain.errors import Conflict, ValidationFailed
from write_api.domain.limits import ADDRESS_FIELDS, ORDER_TOTAL_MAX, text_errors
from write_api.domain.metadata import CommandContext
from write_api.domain.order_status import PENDING_PAYMENT
from write_api.domain.payment_attempts import Attempt
from write_api.domain.product import Product
from write_api.domain.refunds import Refund

Metadata = dict[str, str | None]


def check_shipping_address(address: dict[str, Any]) -> None:
    """Raise ValidationFailed naming each address field that is unknown, missing or unclean."""
    errors: dict[str, list[str]] = {
        field: ["Not an address field."] for field in sorted(set(address) - set(ADDRESS_FIELDS))
    }
    for field, (low, high) in ADDRESS_FIELDS.items():
        value = address.get(field, "")
        if not isinstance(value, str):
            errors[field] = ["Must be text."]
        elif found := text_errors(value, min_length=low, max_length=high):
            errors[field] = found
    if errors:
        raise ValidationFailed("The shipping address is invalid.", {"shipping_address": errors})


class Order(Aggregate):
    """A customer's order: lines priced at checkout, a shipping address, a status."""

    TOPIC = "shopstream.order"

    class Created(Aggregate.Created):
        """Never recorded (orders start with Placed), but the library defines it on every
        aggregate, and with explicit topics each defined event class needs its own."""

        TOPIC = "shopstream.order.Created"

    class Placed(Aggregate.Created):
        """An order was placed: its priced lines (each with its category at checkout), its
        total and currency, where it ships to.

        Version 2 added `currency` and each line's `category_id`; version 1 events are
        upcast when loaded (contracts.schemas, shared with the envelopes' readers)."""

        TOPIC = "shopstream.order.Placed"
        class_version = 2

        order_id: UUID
        customer_id: UUID
        lines: list[dict[str, Any]]
        total: Decimal
        currency: str
        shipping_address: dict[str, Any]
        metadata: Metadata

        upcast_v1_v2 = staticmethod(order_placed_v1_v2)

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        return order_id

    @classmethod
    def check_out(
        cls,
        cart: Cart,
        products: dict[UUID, Product],
        *,
        order_id: UUID,
        customer_id: UUID,
        shipping_address: dict[str, Any],
        currency: str,
        context: CommandContext,
    ) -> Order:
        """The checkout decision: check every line's stock, snapshot the prices, empty the
        cart and reserve the units, or change nothing.

        `products` holds each product of the cart's lines. Raises Conflict("out_of_stock") with
        every short line before any aggregate records an event.
        """
        short = {
            str(pid): {"requested": cart.lines[pid], "available": p.available}
            for pid, p in products.items()
            if p.available < cart.lines[pid]
        }
        if short:
            raise Conflict(
                "Not enough stock for some products.", {"products": short}, code="out_of_stock"
            )
        quantities = dict(cart.lines)
        cart.check_out(order_id=order_id, context=context)
        lines = [
            {
                "product_id": pid,
                "name": p.name,
                "unit_price": p.price,
                "quantity": quantities[pid],
                "seller_id": p.seller_id,
                "category_id": p.category_id,
            }
            for pid, p in products.items()
        ]
        order = cls.place(
            order_id=order_id,
            customer_id=customer_id,
            lines=lines,
            shipping_address=shipping_address,
            currency=currency,
            context=context,
        )
        for pid, product in products.items():
            product.reserve(order_id=order_id, quantity=quantities[pid], context=context)
        return order

    @classmethod
    def place(
        cls,
        *,
        order_id: UUID,
        customer_id: UUID,
        lines: list[dict[str, Any]],
        shipping_address: dict[str, Any],
        currency: str,
        context: CommandContext,
    ) -> Order:
        """An order for priced lines in `currency` (the shop's, ISO 4217); its total is their
        sum, within what any order may cost."""
        check_shipping_address(shipping_address)
        total = sum((line["unit_price"] * line["quantity"] for line in lines), Decimal("0.00"))
        if total > ORDER_TOTAL_MAX:
            # Unreachable with today's price and quantity limits; older products may exceed them.
            raise Conflict(
                f"An order may cost at most {ORDER_TOTAL_MAX}.",
                {"total": [f"{total} is above {ORDER_TOTAL_MAX}."]},
                code="order_total_too_large",
            )
        created: Order = cls(
            order_id=order_id,
            customer_id=customer_id,
            lines=lines,
            total=total,
            currency=currency,
            shipping_address=shipping_address,
            metadata=context.as_event_metadata(),
        )
        return created

    @event(Placed)
    def __init__(
        self,
        *,
        order_id: UUID,
        customer_id: UUID,
        lines: list[dict[str, Any]],
        total: Decimal,
        currency: str,
        shipping_address: dict[str, Any],
        metadata: Metadata,
    ) -> None:
        self.customer_id = customer_id
        self.lines = lines
        self.total = total
        self.currency = currency
        self.shipping_address = shipping_address
        self.status = PENDING_PAYMENT
        self.payment_pending_charge: str | None = None
        self.payment_attempt: Attempt | None = None
        self.charge_id: str | None = None
        self.fulfilments: dict[UUID, parcels.Fulfilment] = {}
        self.refunds: dict[UUID, Refund] = {}
        self.restocked: list[UUID] = []  # products whose units a refund put back on sale

    @property
    def seller_ids(self) -> set[UUID]:
        return {line["seller_id"] for line in self.lines}

    @property
    def quantities(self) -> dict[UUID, int]:
        return {line["product_id"]: line["quantity"] for line in self.lines}

    # -- payment: start (or resume) an attempt, then record its outcome ----------------
    begin_payment = payment_attempts.begin_payment
    check_gateway_charge = payment_attempts.check_gateway_charge
    paid_by = payment_attempts.paid_by
    record_payment_declined = payment_attempts.record_payment_declined
    record_payment_pending = payment_attempts.record_payment_pending
    record_payment_authorised = payment_attempts.record_payment_authorised
    record_payment_voided = payment_attempts.record_payment_voided
    mark_paid = payment_attempts.mark_paid
    _payment_started = payment_attempts.payment_started
    _payment_resumed = payment_attempts.payment_resumed
    _payment_failed = payment_attempts.payment_failed
    _payment_pending = payment_attempts.payment_pending
    _payment_authorised = payment_attempts.payment_authorised
    _payment_voided = payment_attempts.payment_voided
    _paid = payment_attempts.paid

    # -- status: an admin's moves along fulfilment, cancellation, expiry ----------------
    advance = order_lifecycle.advance
    is_overdue = order_lifecycle.is_overdue
    cancel = order_lifecycle.cancel
    _status_changed = order_lifecycle.status_changed
    _cancelled = order_lifecycle.cancelled

    # -- refunds: request (saved before the gateway is called), then the outcome --------
    # Properties defined here, not as property(function): mypy would type them Any.
    @property
    def captured(self) -> Decimal:
        return refund_requests.captured(self)

    @property
    def refundable(self) -> Decimal:
        return refund_requests.refundable(self)

    @property
    def refunded_total(self) -> Decimal:
        return refund_requests.refunded_total(self)

    @property
    def payment_status(self) -> str:
        return refund_requests.order_payment_status(self)

    request_refund = refund_requests.request_refund
    refund = refund_requests.refund
    record_refund_pending = refund_requests.record_refund_pending
    record_refund_succeeded = refund_requests.record_refund_succeeded
    record_refund_failed = refund_requests.record_refund_failed
    _refund_requested = refund_requests.refund_requested
    _refund_pending = refund_requests.refund_pending
    _refund_succeeded = refund_requests.refund_succeeded
    _refund_failed = refund_requests.refund_failed

    # -- fulfilment per seller: each seller ships its own lines; the status follows ------
    fulfil = order_fulfilment.fulfil
    deliver = order_fulfilment.deliver
    _fulfilled = order_fulfilment.fulfilled
    _fulfilment_delivered = order_fulfilment.fulfilment_delivered
