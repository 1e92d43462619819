"""Shipping an order per seller: each seller ships its own lines in parcels (fulfilments),
and the order's status follows them.

The commands and `@event` bodies are functions whose first parameter is the order (named
`self`, as the library expects of an event body); `Order` composes them as its methods. The
checks on lines, sellers and parcels are in write_api.domain.fulfilment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import event

from write_api.domain import fulfilment as parcels
from write_api.domain.errors import NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.order_status import DELIVERED, PAID, PROCESSING, SHIPPED, illegal

if TYPE_CHECKING:
    from write_api.domain.order import Order

Metadata = dict[str, str | None]


def fulfil(
    self: Order,
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
    parcels.check_sells(seller_id, product_ids, seller_of(self))
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
def fulfilled(
    self: Order,
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
    self: Order, *, fulfilment_id: UUID, seller_id: UUID | None, context: CommandContext
) -> None:
    """Mark a parcel delivered (its seller or an admin); the last one delivers the order."""
    parcels.check_seller_in_order(seller_id, self.seller_ids)
    fulfilment = self.fulfilments.get(fulfilment_id)
    if fulfilment is None:
        raise NotFound(f"Fulfilment {fulfilment_id} does not exist.")
    parcels.check_sells(seller_id, fulfilment["product_ids"], seller_of(self))
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
def fulfilment_delivered(self: Order, *, fulfilment_id: UUID, metadata: Metadata) -> None:
    delivered = {**self.fulfilments[fulfilment_id], "status": parcels.DELIVERED}
    self.fulfilments = {**self.fulfilments, fulfilment_id: delivered}


def seller_of(self: Order) -> dict[UUID, UUID | None]:
    return {line["product_id"]: line["seller_id"] for line in self.lines}


def require_no_fulfilments(self: Order) -> None:
    """Once a seller has shipped a parcel, the fulfilments alone move the status: an
    admin's shipped or delivered would disagree with the parcels still on their way."""
    if self.fulfilments:
        raise parcels.FulfilledPerSeller(
            "This order is shipped per seller: use its fulfilments.",
            {"status": ["The fulfilments of this order set its status."]},
        )
