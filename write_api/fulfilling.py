"""Fulfilment commands: a seller (or an admin) ships lines of an order and marks them delivered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.results import Saved
from write_api.store import Decision, ShopStore


@dataclass(frozen=True)
class FulfilmentSaved(Saved):
    """A fulfilment as just saved: the order's id and new version, the parcel, and the
    order's status (which the parcel may have moved)."""

    fulfilment_id: UUID
    product_ids: list[UUID]
    status: str
    order_status: str


def saved_fulfilment(order: Order, fulfilment_id: UUID) -> Decision[FulfilmentSaved]:
    parcel = order.fulfilments[fulfilment_id]
    return Decision(
        FulfilmentSaved(
            order.id,
            order.version,
            fulfilment_id,
            list(parcel["product_ids"]),
            parcel["status"],
            order.status,
        )
    )


class FulfilmentCommands(ShopStore):
    """Each seller ships its own lines; the order's status follows its fulfilments.

    `seller_id` is the acting seller, or None for an admin, who may act on any line.
    """

    def fulfil_order(
        self,
        order_id: UUID,
        *,
        product_ids: list[UUID],
        carrier: str | None,
        tracking_number: str | None,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> FulfilmentSaved:
        fulfilment_id = uuid.uuid4()

        def ship(order: Order) -> Decision[FulfilmentSaved]:
            order.fulfil(
                fulfilment_id=fulfilment_id,
                product_ids=product_ids,
                carrier=carrier,
                tracking_number=tracking_number,
                seller_id=seller_id,
                context=context,
            )
            return saved_fulfilment(order, fulfilment_id)

        _, saved = self._decide(self.get_order, order_id, ship)
        return saved

    def deliver_fulfilment(
        self,
        order_id: UUID,
        fulfilment_id: UUID,
        *,
        seller_id: UUID | None,
        context: CommandContext,
    ) -> FulfilmentSaved:
        def deliver(order: Order) -> Decision[FulfilmentSaved]:
            order.deliver(fulfilment_id=fulfilment_id, seller_id=seller_id, context=context)
            return saved_fulfilment(order, fulfilment_id)

        _, saved = self._decide(self.get_order, order_id, deliver)
        return saved
