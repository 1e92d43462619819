"""Refund rules of an order: how much may still be refunded, and by whom (pure functions).

The Order aggregate keeps each refund as a plain dict (see `Refund`) and asks these
functions before it records anything; the amounts they add up include refunds still in
flight, so two refunds that each fit alone can never together exceed what was captured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict
from uuid import UUID

from write_api.domain.errors import Conflict, Forbidden, ValidationFailed
from write_api.domain.limits import ORDER_TOTAL_MAX, REFUND_REASON_MAX, text_errors

REQUESTED, PENDING, SUCCEEDED, FAILED = "requested", "pending", "succeeded", "failed"
# Money a refund holds against the captured amount until it fails.
HOLDING = {REQUESTED, PENDING, SUCCEEDED}
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
UNPAID, PAID, PARTIALLY_REFUNDED, REFUNDED = "unpaid", "paid", "partially_refunded", "refunded"


class Refund(TypedDict):
    """One refund of an order, as the aggregate keeps it."""

    amount: Decimal
    status: str
    reason: str
    product_ids: list[UUID]
    seller_id: UUID | None
    gateway_refund_id: str | None


class RefundExceedsCaptured(Conflict):
    """More than the captured amount minus what other refunds already hold."""

    code = "refund_exceeds_captured"


class OrderNotPaid(Conflict):
    """Nothing was captured for this order, so nothing can be given back."""

    code = "order_not_paid"


def check_refund_request(
    *,
    amount: Decimal,
    reason: str,
    product_ids: list[UUID] | None,
    lines: Iterable[Mapping[str, Any]],
) -> None:
    """Raise ValidationFailed naming every field of the request that breaks a rule."""
    errors: dict[str, list[str]] = {}
    if not is_refund_amount(amount):
        errors["amount"] = [f"Must be a positive amount of at most {ORDER_TOTAL_MAX}, in cents."]
    if found := text_errors(reason.strip(), min_length=1, max_length=REFUND_REASON_MAX):
        errors["reason"] = found
    known = {line["product_id"] for line in lines}
    if product_ids is not None:
        unknown = [str(pid) for pid in product_ids if pid not in known]
        if unknown:
            errors["product_ids"] = [f"Not a product of this order: {', '.join(unknown)}."]
        elif not product_ids:
            errors["product_ids"] = ["Name at least one product of the order."]
    if errors:
        raise ValidationFailed("The refund is invalid.", errors)


def is_refund_amount(amount: Decimal) -> bool:
    try:
        return (
            amount.is_finite()
            and CENT <= amount <= ORDER_TOTAL_MAX
            and amount == amount.quantize(CENT)
        )
    except InvalidOperation:
        return False


def held(refunds: Iterable[Refund]) -> Decimal:
    """What refunds hold against the captured amount: every one that has not failed."""
    return sum((r["amount"] for r in refunds if r["status"] in HOLDING), ZERO)


def refunded(refunds: Iterable[Refund]) -> Decimal:
    """What the gateway has given back."""
    return sum((r["amount"] for r in refunds if r["status"] == SUCCEEDED), ZERO)


def payment_status(captured: Decimal, refunds: Iterable[Refund]) -> str:
    if not captured:
        return UNPAID
    given_back = refunded(refunds)
    if not given_back:
        return PAID
    return REFUNDED if given_back >= captured else PARTIALLY_REFUNDED


def check_refundable(amount: Decimal, captured: Decimal, refunds: Iterable[Refund]) -> None:
    if not captured:
        raise OrderNotPaid("Nothing was captured for this order.", {"status": ["Not paid."]})
    left = captured - held(refunds)
    if amount > left:
        raise RefundExceedsCaptured(
            f"At most {left} of this order may still be refunded.",
            {"amount": [f"At most {left}."]},
        )


def check_seller_share(
    *,
    seller_id: UUID,
    amount: Decimal,
    product_ids: list[UUID] | None,
    lines: Iterable[Mapping[str, Any]],
    refunds: Iterable[Refund],
) -> None:
    """A seller refunds only its own lines, at most their total minus its earlier refunds."""
    own = [line for line in lines if line["seller_id"] == seller_id]
    if not own:
        raise Forbidden("You sell nothing in this order.")
    if not product_ids:
        raise ValidationFailed(
            "The refund is invalid.", {"product_ids": ["A seller names the lines it refunds."]}
        )
    own_ids = {line["product_id"] for line in own}
    if not set(product_ids) <= own_ids:
        raise Forbidden("Another seller sells some of these lines.")
    share = sum((line["unit_price"] * line["quantity"] for line in own), ZERO)
    left = share - held(r for r in refunds if r["seller_id"] == seller_id)
    if amount > left:
        raise RefundExceedsCaptured(
            f"At most {left} of your lines may still be refunded.",
            {"amount": [f"At most {left}."]},
        )
