"""What commands return, and the marker for "leave this field as it is"."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from uuid import UUID


class Unchanged:
    """Marks an optional field the command leaves as it is (None may be a real value)."""


UNCHANGED: Final = Unchanged()


@dataclass(frozen=True)
class Saved:
    """What a command returns: the aggregate id and its new version."""

    id: UUID
    version: int


@dataclass(frozen=True)
class StockLevel(Saved):
    """Stock on hand and reserved right after this command's change."""

    stock: int
    reserved: int


@dataclass(frozen=True)
class CartLines(Saved):
    """The cart right after this command's change: product id -> quantity."""

    lines: dict[UUID, int]


@dataclass(frozen=True)
class StartedPayment(Saved):
    """The payment attempt in flight: what to charge, and the id its gateway key derives from."""

    attempt_id: UUID
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RequestedRefund(Saved):
    """A refund the order holds: its status there, and the charge it gives money back from
    (in the order's currency)."""

    refund_id: UUID
    amount: Decimal
    status: str  # "requested", "pending", "succeeded" or "failed"
    charge_id: str | None
    currency: str
    created: bool  # False: the refund existed already and nothing changed


@dataclass(frozen=True)
class RefundResult:
    """What a refund use case answers: the refund, and the order's version after it."""

    id: UUID
    order_id: UUID
    amount: Decimal
    status: str  # "succeeded" or "pending"
    version: int
