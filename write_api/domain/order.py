"""The Order aggregate: what was bought, for how much, and where it is in its life."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contracts.schemas import order_placed_v1_v2
from write_api.domain import fulfilment as parcels
from write_api.domain.cart import Cart
from write_api.domain.errors import Conflict, NotFound, ValidationFailed
from write_api.domain.limits import ADDRESS_FIELDS, ORDER_TOTAL_MAX, text_errors
from write_api.domain.metadata import CommandContext
from write_api.domain.product import Product
from write_api.domain.refunds import (
    FAILED,
    PENDING,
    REQUESTED,
    SUCCEEDED,
    Refund,
    check_refund_request,
    check_refundable,
    check_seller_share,
    held,
    payment_status,
    refunded,
)

Metadata = dict[str, str | None]
PENDING_PAYMENT, PAID, PROCESSING, SHIPPED, DELIVERED, CANCELLED = (
    "pending_payment",
    "paid",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
)
FULFILMENT = {PAID: PROCESSING, PROCESSING: SHIPPED, SHIPPED: DELIVERED}
CANCELLABLE = {PENDING_PAYMENT, PAID, PROCESSING}
# The payment attempt in flight: attempt_id, amount, currency, charge_id (None until known),
# and `authorised` once the gateway's authorisation of that charge is recorded.
Attempt = dict[str, Any]


class PaymentInProgress(Conflict):
    """Another payment attempt of this order is in flight; it may be retried once it ends."""

    code = "payment_in_progress"
    transient = True


class ChargeRefused(Conflict):
    """A gateway notice that does not match the payment this order started."""


def illegal(current: str, wanted: str) -> Conflict:
    return Conflict(
        f"An order cannot go from {current} to {wanted}.",
        {"status": [f"Not allowed from {current}."]},
        code="illegal_transition",
    )


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
    def begin_payment(
        self,
        *,
        attempt_id: UUID,
        now: datetime,
        resume_after: timedelta,
        context: CommandContext,
    ) -> Attempt:
        """Start an attempt for the whole total in the order's currency, or resume one left
        without progress.

        Saved before the gateway is called, so concurrent payers conflict on the order's
        version and only one charges; a resumed attempt reuses its gateway idempotency key.
        """
        self._require(PENDING_PAYMENT, PAID)
        attempt = self.payment_attempt
        if attempt is None:
            self._payment_started(
                attempt_id=attempt_id,
                amount=self.total,
                currency=self.currency,
                metadata=context.as_event_metadata(),
            )
        elif now - self.modified_on >= resume_after:
            self._payment_resumed(
                attempt_id=attempt["attempt_id"], metadata=context.as_event_metadata()
            )
        else:
            raise PaymentInProgress(
                "A payment of this order is already in progress.",
                {"attempt_id": str(attempt["attempt_id"])},
            )
        assert self.payment_attempt is not None
        return self.payment_attempt

    @event("PaymentStarted", topic="shopstream.order.PaymentStarted")
    def _payment_started(
        self, *, attempt_id: UUID, amount: Decimal, currency: str, metadata: Metadata
    ) -> None:
        self.payment_attempt = {
            "attempt_id": attempt_id,
            "amount": amount,
            "currency": currency,
            "charge_id": None,
        }

    @event("PaymentResumed", topic="shopstream.order.PaymentResumed")
    def _payment_resumed(self, *, attempt_id: UUID, metadata: Metadata) -> None:
        """Only marks progress: the attempt is the same, and so is its gateway key."""

    def check_gateway_charge(
        self,
        *,
        charge_id: str,
        attempt_id: UUID | None,
        amount: Decimal,
        currency: str,
    ) -> None:
        """A gateway notice must be about the charge this order started, for its total in
        its currency."""
        if amount != self.total:
            raise ChargeRefused(
                f"The charge is for {amount}, the order for {self.total}.", code="amount_mismatch"
            )
        if currency != self.currency:
            raise ChargeRefused(
                f"The charge is in {currency}, the order in {self.currency}.",
                code="currency_mismatch",
            )
        if self.paid_by(charge_id):
            return
        if not self._attempt_owns(charge_id, attempt_id):
            raise ChargeRefused(
                "The charge is not the one this order started.", code="unknown_charge"
            )

    def paid_by(self, charge_id: str) -> bool:
        return self.status != PENDING_PAYMENT and self.charge_id == charge_id

    def _attempt_owns(self, charge_id: str, attempt_id: UUID | None) -> bool:
        attempt = self.payment_attempt
        if attempt is None:  # a charge left pending before attempts were recorded
            return attempt_id is None and self.payment_pending_charge == charge_id
        if attempt_id is not None and attempt_id != attempt["attempt_id"]:
            return False
        if attempt["charge_id"] is not None:
            return bool(attempt["charge_id"] == charge_id)
        return attempt_id is not None  # charge not recorded yet: only the echo links them

    def _require_attempt(self, attempt_id: UUID | None) -> None:
        """Outcomes of a gateway attempt belong to the attempt in flight, not an ended one."""
        attempt = self.payment_attempt
        if attempt_id is not None and (attempt is None or attempt["attempt_id"] != attempt_id):
            raise ChargeRefused(
                "That payment attempt is no longer in progress.", code="unknown_charge"
            )

    def record_payment_declined(
        self,
        *,
        charge_id: str,
        reason: str,
        context: CommandContext,
        attempt_id: UUID | None = None,
    ) -> None:
        self._require(PENDING_PAYMENT, "paid")
        self._require_attempt(attempt_id)
        if self.payment_attempt and self.payment_attempt.get("authorised"):
            # Its charge may be captured any moment: it ends paid, or voided at the gateway.
            raise ChargeRefused(
                "The attempt is authorised: it is captured or voided, not failed.",
                code="payment_authorised",
            )
        self._payment_failed(
            charge_id=charge_id,
            reason=reason,
            attempt_id=attempt_id,
            metadata=context.as_event_metadata(),
        )

    @event("PaymentFailed", topic="shopstream.order.PaymentFailed")
    def _payment_failed(
        self, *, charge_id: str, reason: str, metadata: Metadata, attempt_id: UUID | None = None
    ) -> None:
        self.payment_pending_charge = None
        self.payment_attempt = None

    def record_payment_pending(
        self, *, charge_id: str, context: CommandContext, attempt_id: UUID | None = None
    ) -> None:
        if self.paid_by(charge_id):
            return  # the gateway's webhook settled it before the pay call recorded "pending"
        self._require(PENDING_PAYMENT, "paid")
        self._require_attempt(attempt_id)
        self._payment_pending(
            charge_id=charge_id, attempt_id=attempt_id, metadata=context.as_event_metadata()
        )

    @event("PaymentPending", topic="shopstream.order.PaymentPending")
    def _payment_pending(
        self, *, charge_id: str, metadata: Metadata, attempt_id: UUID | None = None
    ) -> None:
        self.payment_pending_charge = charge_id
        if self.payment_attempt is not None:
            self.payment_attempt = {**self.payment_attempt, "charge_id": charge_id}

    def record_payment_authorised(
        self, *, attempt_id: UUID, charge_id: str, context: CommandContext
    ) -> bool:
        """Record the gateway's authorisation of the attempt's charge, before it is captured;
        False (no event) if it is recorded already. Refused once the order is not payable or
        the attempt has ended: the caller then voids the authorisation."""
        attempt = self.payment_attempt
        if attempt and attempt.get("authorised") and attempt["charge_id"] == charge_id:
            return False
        self._require(PENDING_PAYMENT, PAID)
        if attempt is None or attempt["attempt_id"] != attempt_id:
            raise ChargeRefused(
                "That payment attempt is no longer in progress.", code="unknown_charge"
            )
        self._payment_authorised(
            attempt_id=attempt_id, charge_id=charge_id, metadata=context.as_event_metadata()
        )
        return True

    @event("PaymentAuthorised", topic="shopstream.order.PaymentAuthorised")
    def _payment_authorised(self, *, attempt_id: UUID, charge_id: str, metadata: Metadata) -> None:
        assert self.payment_attempt is not None
        self.payment_attempt = {**self.payment_attempt, "charge_id": charge_id, "authorised": True}

    def record_payment_voided(
        self, *, attempt_id: UUID, charge_id: str, reason: str, context: CommandContext
    ) -> None:
        """End the attempt with nothing taken (its authorisation voided, or it never reached
        the gateway), whatever the order's status: an unpayable order's attempt ends this way."""
        attempt = self.payment_attempt
        if attempt is None or attempt["attempt_id"] != attempt_id:
            raise ChargeRefused(
                "That payment attempt is no longer in progress.", code="unknown_charge"
            )
        self._payment_voided(
            attempt_id=attempt_id,
            charge_id=charge_id,
            reason=reason,
            metadata=context.as_event_metadata(),
        )

    @event("PaymentVoided", topic="shopstream.order.PaymentVoided")
    def _payment_voided(
        self, *, attempt_id: UUID, charge_id: str, reason: str, metadata: Metadata
    ) -> None:
        self.payment_pending_charge = None
        self.payment_attempt = None

    def mark_paid(
        self, *, charge_id: str, context: CommandContext, attempt_id: UUID | None = None
    ) -> bool:
        """Record the captured charge; False (and no event) if this charge already paid it."""
        if self.paid_by(charge_id):
            return False
        self._require(PENDING_PAYMENT, PAID)
        self._require_attempt(attempt_id)
        self._paid(charge_id=charge_id, attempt_id=attempt_id, metadata=context.as_event_metadata())
        return True

    @event("Paid", topic="shopstream.order.Paid")
    def _paid(self, *, charge_id: str, metadata: Metadata, attempt_id: UUID | None = None) -> None:
        self.status = PAID
        self.charge_id = charge_id
        self.payment_pending_charge = None
        self.payment_attempt = None

    def advance(self, *, status: str, context: CommandContext) -> None:
        """Move along fulfilment: paid -> processing -> shipped -> delivered."""
        self._require_no_fulfilments()
        if FULFILMENT.get(self.status) != status:
            raise illegal(self.status, status)
        self._status_changed(status=status, metadata=context.as_event_metadata())

    @event("StatusChanged", topic="shopstream.order.StatusChanged")
    def _status_changed(self, *, status: str, metadata: Metadata) -> None:
        self.status = status

    def is_overdue(self, now: datetime, timeout: timedelta) -> bool:
        """Unpaid for longer than `timeout`, with no charge pending or attempt in flight.

        An attempt in flight may have been captured at the gateway: expiring its order
        could take money for a cancelled order, so it waits for the attempt's outcome.
        """
        return (
            self.status == PENDING_PAYMENT
            and self.payment_pending_charge is None
            and self.payment_attempt is None
            and now - self.created_on >= timeout
        )

    def cancel(self, *, reason: str, context: CommandContext) -> None:
        """Refused while a payment attempt is in flight: the gateway may be authorising or
        capturing its charge, so the attempt ends first (paid, failed or voided, by the pay call
        or the reconciliation) and money and order never disagree."""
        if self.status not in CANCELLABLE:
            raise illegal(self.status, CANCELLED)
        if self.fulfilments:
            raise Conflict(
                "Some lines of this order have shipped.",
                {"status": ["Not allowed once a line has shipped."]},
                code="illegal_transition",
            )
        if self.payment_attempt is not None or self.payment_pending_charge is not None:
            raise PaymentInProgress(
                "A payment of this order is in progress; cancel once it has ended.",
                {"status": ["A payment attempt is in flight."]},
            )
        self._cancelled(reason=reason, previous=self.status, metadata=context.as_event_metadata())

    @event("Cancelled", topic="shopstream.order.Cancelled")
    def _cancelled(self, *, reason: str, previous: str, metadata: Metadata) -> None:
        self.status = CANCELLED

    # -- refunds: request (saved before the gateway is called), then the outcome --------
    @property
    def captured(self) -> Decimal:
        """What the gateway took for this order (nothing until it is paid)."""
        return self.total if self.charge_id is not None else Decimal("0.00")

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded: captured minus every refund that has not failed."""
        return self.captured - held(self.refunds.values())

    @property
    def refunded_total(self) -> Decimal:
        return refunded(self.refunds.values())

    @property
    def payment_status(self) -> str:
        return payment_status(self.captured, self.refunds.values())

    def request_refund(
        self,
        *,
        refund_id: UUID,
        amount: Decimal,
        reason: str,
        restock: bool,
        product_ids: list[UUID] | None,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> dict[UUID, int]:
        """Hold `amount` of the captured money for a new refund; the units to put back on sale.

        Saved before the gateway is called, so concurrent refunds conflict on the order's
        version and together never exceed what was captured. `seller_id` limits the refund
        to that seller's lines.
        """
        check_refund_request(
            amount=amount, reason=reason, product_ids=product_ids, lines=self.lines
        )
        if seller_id is not None:
            check_seller_share(
                seller_id=seller_id,
                amount=amount,
                product_ids=product_ids,
                lines=self.lines,
                refunds=self.refunds.values(),
            )
        check_refundable(amount, self.captured, self.refunds.values())
        chosen = set(self.quantities) if product_ids is None else set(product_ids)
        units = {
            str(pid): qty
            for pid, qty in self.quantities.items()
            if restock and pid in chosen and pid not in self.restocked
        }
        self._refund_requested(
            refund_id=refund_id,
            amount=amount,
            reason=reason.strip(),
            product_ids=sorted(chosen, key=str),
            seller_id=seller_id,
            restocked=units,
            charge_id=self.charge_id,
            metadata=context.as_event_metadata(),
        )
        return {UUID(pid): qty for pid, qty in units.items()}

    @event("RefundRequested", topic="shopstream.order.RefundRequested")
    def _refund_requested(
        self,
        *,
        refund_id: UUID,
        amount: Decimal,
        reason: str,
        product_ids: list[UUID],
        seller_id: UUID | None,
        restocked: dict[str, int],
        charge_id: str | None,
        metadata: Metadata,
    ) -> None:
        self.refunds[refund_id] = {
            "amount": amount,
            "status": REQUESTED,
            "reason": reason,
            "product_ids": product_ids,
            "seller_id": seller_id,
            "gateway_refund_id": None,
        }
        self.restocked.extend(UUID(pid) for pid in restocked)

    def refund(self, refund_id: UUID) -> Refund | None:
        return self.refunds.get(refund_id)

    def record_refund_pending(
        self, *, refund_id: UUID, gateway_refund_id: str, context: CommandContext
    ) -> bool:
        """The gateway will settle this refund later; False (no event) if it is past that."""
        if self._refund_status(refund_id) != REQUESTED:
            return False
        self._refund_pending(
            refund_id=refund_id,
            gateway_refund_id=gateway_refund_id,
            metadata=context.as_event_metadata(),
        )
        return True

    @event("RefundPending", topic="shopstream.order.RefundPending")
    def _refund_pending(
        self, *, refund_id: UUID, gateway_refund_id: str, metadata: Metadata
    ) -> None:
        self.refunds[refund_id] = {
            **self.refunds[refund_id],
            "status": PENDING,
            "gateway_refund_id": gateway_refund_id,
        }

    def record_refund_succeeded(
        self, *, refund_id: UUID, gateway_refund_id: str, context: CommandContext
    ) -> bool:
        """The gateway gave the money back; False (no event) if this was recorded already."""
        if self._refund_status(refund_id) not in (REQUESTED, PENDING):
            return False
        self._refund_succeeded(
            refund_id=refund_id,
            gateway_refund_id=gateway_refund_id,
            metadata=context.as_event_metadata(),
        )
        return True

    @event("RefundSucceeded", topic="shopstream.order.RefundSucceeded")
    def _refund_succeeded(
        self, *, refund_id: UUID, gateway_refund_id: str, metadata: Metadata
    ) -> None:
        self.refunds[refund_id] = {
            **self.refunds[refund_id],
            "status": SUCCEEDED,
            "gateway_refund_id": gateway_refund_id,
        }

    def record_refund_failed(
        self, *, refund_id: UUID, reason: str, context: CommandContext
    ) -> bool:
        """The gateway refused: the held amount is refundable again; False if already ended."""
        if self._refund_status(refund_id) not in (REQUESTED, PENDING):
            return False
        self._refund_failed(
            refund_id=refund_id, reason=reason, metadata=context.as_event_metadata()
        )
        return True

    @event("RefundFailed", topic="shopstream.order.RefundFailed")
    def _refund_failed(self, *, refund_id: UUID, reason: str, metadata: Metadata) -> None:
        self.refunds[refund_id] = {**self.refunds[refund_id], "status": FAILED}

    def _refund_status(self, refund_id: UUID) -> str:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise NotFound(f"Refund {refund_id} of order {self.id} does not exist.")
        return refund["status"]

    def _require(self, status: str, wanted: str) -> None:
        if self.status != status:
            raise illegal(self.status, wanted)

    # -- fulfilment per seller: each seller ships its own lines; the status follows ------
    def fulfil(
        self,
        *,
        fulfilment_id: UUID,
        product_ids: list[UUID],
        carrier: str | None,
        tracking_number: str | None,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> None:
        """Ship some lines in one parcel; `seller_id` None is an admin, who may ship any line.

        The first parcel moves a paid order to processing, the one that ships its last line
        to shipped: the status changes are events of their own, so the status history,
        notifications and orders as of a time read them as they read an admin's.
        """
        parcels.check_seller_in_order(seller_id, self.seller_ids)
        parcels.check_product_ids(product_ids, self.quantities)
        parcels.check_parcel(carrier, tracking_number)
        parcels.check_sells(seller_id, product_ids, self._seller_of)
        parcels.check_not_shipped(product_ids, self.fulfilments.values())
        if self.status not in (PAID, PROCESSING):
            raise illegal(self.status, SHIPPED)
        metadata = context.as_event_metadata()
        self._fulfilled(
            fulfilment_id=fulfilment_id,
            product_ids=list(product_ids),
            carrier=carrier,
            tracking_number=tracking_number,
            metadata=metadata,
        )
        shipped = {pid for f in self.fulfilments.values() for pid in f["product_ids"]}
        if shipped == set(self.quantities):
            self._status_changed(status=SHIPPED, metadata=metadata)
        elif self.status == PAID:
            self._status_changed(status=PROCESSING, metadata=metadata)

    @event("Fulfilled", topic="shopstream.order.Fulfilled")
    def _fulfilled(
        self,
        *,
        fulfilment_id: UUID,
        product_ids: list[UUID],
        carrier: str | None,
        tracking_number: str | None,
        metadata: Metadata,
    ) -> None:
        self.fulfilments = {
            **self.fulfilments,
            fulfilment_id: {
                "product_ids": list(product_ids),
                "status": parcels.SHIPPED,
                "carrier": carrier,
                "tracking_number": tracking_number,
            },
        }

    def deliver(
        self, *, fulfilment_id: UUID, seller_id: UUID | None, context: CommandContext
    ) -> None:
        """Mark a parcel delivered (its seller or an admin); the last one delivers the order."""
        parcels.check_seller_in_order(seller_id, self.seller_ids)
        fulfilment = self.fulfilments.get(fulfilment_id)
        if fulfilment is None:
            raise NotFound(f"Fulfilment {fulfilment_id} does not exist.")
        parcels.check_sells(seller_id, fulfilment["product_ids"], self._seller_of)
        if fulfilment["status"] == parcels.DELIVERED:
            raise parcels.AlreadyDelivered("This fulfilment was delivered already.")
        if self.status not in (PROCESSING, SHIPPED):
            raise illegal(self.status, DELIVERED)
        metadata = context.as_event_metadata()
        self._fulfilment_delivered(fulfilment_id=fulfilment_id, metadata=metadata)
        if self.status == SHIPPED and all(
            f["status"] == parcels.DELIVERED for f in self.fulfilments.values()
        ):
            self._status_changed(status=DELIVERED, metadata=metadata)

    @event("FulfilmentDelivered", topic="shopstream.order.FulfilmentDelivered")
    def _fulfilment_delivered(self, *, fulfilment_id: UUID, metadata: Metadata) -> None:
        delivered = {**self.fulfilments[fulfilment_id], "status": parcels.DELIVERED}
        self.fulfilments = {**self.fulfilments, fulfilment_id: delivered}

    @property
    def _seller_of(self) -> dict[UUID, UUID | None]:
        return {line["product_id"]: line["seller_id"] for line in self.lines}

    def _require_no_fulfilments(self) -> None:
        """Once a seller has shipped a parcel, the fulfilments alone move the status: an
        admin's shipped or delivered would disagree with the parcels still on their way."""
        if self.fulfilments:
            raise parcels.FulfilledPerSeller(
                "This order is shipped per seller: use its fulfilments.",
                {"status": ["The fulfilments of this order set its status."]},
            )
