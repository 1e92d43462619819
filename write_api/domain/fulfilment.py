"""The rules of shipping an order's lines per seller: which lines a fulfilment may carry, who
may ship or deliver them, and what a parcel's carrier and tracking number may say.

Pure checks the Order aggregate runs before it records Fulfilled or FulfilmentDelivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from write_api.domain.errors import Conflict, Forbidden, ValidationFailed
from write_api.domain.limits import CARRIER_MAX, TRACKING_NUMBER_MAX, text_errors

SHIPPED, DELIVERED = "shipped", "delivered"
# A fulfilment as the Order keeps it: product_ids, status, carrier, tracking_number.
Fulfilment = dict[str, Any]


class AlreadyFulfilled(Conflict):
    """A line is in a fulfilment already: each line ships once."""

    code = "already_fulfilled"


class AlreadyDelivered(Conflict):
    """The fulfilment was marked delivered before."""

    code = "already_delivered"


class FulfilledPerSeller(Conflict):
    """The order's sellers ship it through fulfilments: its status follows them."""

    code = "fulfilled_per_seller"


def check_product_ids(product_ids: Sequence[UUID], lines: Iterable[UUID]) -> None:
    """Raise ValidationFailed unless `product_ids` names some lines of the order, once each."""
    known = set(lines)
    errors = [f"{pid} is not a line of this order." for pid in product_ids if pid not in known]
    if len(set(product_ids)) != len(product_ids):
        errors.append("A line is listed more than once.")
    if not product_ids:
        errors.append("Name at least one line.")
    if errors:
        raise ValidationFailed("The request is invalid.", {"product_ids": errors})


def check_seller_in_order(seller_id: UUID | None, sellers: set[UUID]) -> None:
    """A seller (admins act as None) with no line in the order may not act on it."""
    if seller_id is not None and seller_id not in sellers:
        raise Forbidden("You sell nothing in this order.", code="not_a_seller_of_order")


def check_sells(
    seller_id: UUID | None, product_ids: Iterable[UUID], seller_of: Mapping[UUID, UUID | None]
) -> None:
    """A seller acts on their own lines only; admins (None) on any."""
    if seller_id is None:
        return
    others = sorted(str(pid) for pid in product_ids if seller_of[pid] != seller_id)
    if others:
        raise Forbidden(
            "Some of these lines are another seller's.",
            {"product_ids": others},
            code="not_your_line",
        )


def check_not_shipped(product_ids: Iterable[UUID], fulfilments: Iterable[Fulfilment]) -> None:
    shipped = {pid for f in fulfilments for pid in f["product_ids"]}
    again = sorted(str(pid) for pid in product_ids if pid in shipped)
    if again:
        raise AlreadyFulfilled("Some of these lines have shipped already.", {"product_ids": again})


def check_parcel(carrier: str | None, tracking_number: str | None) -> None:
    """Carrier and tracking number are optional, clean, single-line text."""
    errors = {
        field: found
        for field, value, high in (
            ("carrier", carrier, CARRIER_MAX),
            ("tracking_number", tracking_number, TRACKING_NUMBER_MAX),
        )
        if value is not None and (found := text_errors(value, min_length=1, max_length=high))
    }
    if errors:
        raise ValidationFailed("The request is invalid.", errors)
