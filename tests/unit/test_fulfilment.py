"""Each seller ships its own lines of an order; the order's status follows its fulfilments."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from tests.support.marketplace import TwoSellerOrder, two_seller_order
from tests.support.shop_data import CONTEXT
from write_api.application import Shop
from write_api.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed


def ship(shop: Shop, order: TwoSellerOrder, seller: UUID | None, *products: UUID):  # type: ignore[no-untyped-def]
    return shop.fulfil_order(
        order.order_id,
        product_ids=list(products),
        carrier="DHL",
        tracking_number="JD0001",
        seller_id=seller,
        context=CONTEXT,
    )


def test_the_order_ships_only_once_every_seller_has_shipped_and_is_delivered_with_the_last_parcel(
    shop: Shop,
) -> None:
    # given
    order = two_seller_order(shop)
    # when: seller A ships its two lines
    first = ship(shop, order, order.seller_a, order.mug, order.pot)
    # then: the order is being fulfilled, not shipped
    assert (first.status, first.order_status) == ("shipped", "processing")
    assert shop.get_order(order.order_id).fulfilments[first.fulfilment_id] == {
        "product_ids": [order.mug, order.pot],
        "status": "shipped",
        "carrier": "DHL",
        "tracking_number": "JD0001",
    }
    # when: seller B ships the last line
    second = ship(shop, order, order.seller_b, order.lamp)
    # then
    assert second.order_status == "shipped"
    # when: A's parcel arrives, then B's
    a_delivered = shop.deliver_fulfilment(
        order.order_id, first.fulfilment_id, seller_id=order.seller_a, context=CONTEXT
    )
    b_delivered = shop.deliver_fulfilment(
        order.order_id, second.fulfilment_id, seller_id=order.seller_b, context=CONTEXT
    )
    # then
    assert (a_delivered.status, a_delivered.order_status) == ("delivered", "shipped")
    assert (b_delivered.status, b_delivered.order_status) == ("delivered", "delivered")
    kinds = [type(e).__name__ for e in shop.events.get(order.order_id)]
    assert kinds[-7:] == [
        "Fulfilled",
        "StatusChanged",
        "Fulfilled",
        "StatusChanged",
        "FulfilmentDelivered",
        "FulfilmentDelivered",
        "StatusChanged",
    ]
    statuses = [e.status for e in shop.events.get(order.order_id) if hasattr(e, "status")]
    assert statuses == ["processing", "shipped", "delivered"]


def test_a_parcel_delivered_before_the_last_line_ships_still_waits_for_the_rest(
    shop: Shop,
) -> None:
    # given: A shipped and delivered, B not shipped yet
    order = two_seller_order(shop)
    first = ship(shop, order, order.seller_a, order.mug, order.pot)
    shop.deliver_fulfilment(
        order.order_id, first.fulfilment_id, seller_id=order.seller_a, context=CONTEXT
    )
    # when
    second = ship(shop, order, order.seller_b, order.lamp)
    # then: every line shipped, one parcel still on its way
    assert second.order_status == "shipped"
    delivered = shop.deliver_fulfilment(
        order.order_id, second.fulfilment_id, seller_id=order.seller_b, context=CONTEXT
    )
    assert delivered.order_status == "delivered"


def test_an_admin_ships_any_line_in_one_parcel(shop: Shop) -> None:
    order = two_seller_order(shop)
    shipped = ship(shop, order, None, order.mug, order.lamp, order.pot)
    assert shipped.order_status == "shipped"
    delivered = shop.deliver_fulfilment(
        order.order_id, shipped.fulfilment_id, seller_id=None, context=CONTEXT
    )
    assert delivered.order_status == "delivered"


def test_a_seller_may_not_ship_or_deliver_another_sellers_line_and_nothing_changes(
    shop: Shop,
) -> None:
    # given
    order = two_seller_order(shop)
    before = shop.get_order(order.order_id).version
    # when / then: B ships A's mug (with its own lamp)
    with pytest.raises(Forbidden) as refused:
        ship(shop, order, order.seller_b, order.lamp, order.mug)
    assert (refused.value.code, refused.value.details) == (
        "not_your_line",
        {"product_ids": [str(order.mug)]},
    )
    # a seller with no line in the order
    with pytest.raises(Forbidden) as stranger:
        ship(shop, order, uuid4(), order.mug)
    assert stranger.value.code == "not_a_seller_of_order"
    # B delivers A's parcel
    parcel = ship(shop, order, order.seller_a, order.mug)
    with pytest.raises(Forbidden):
        shop.deliver_fulfilment(
            order.order_id, parcel.fulfilment_id, seller_id=order.seller_b, context=CONTEXT
        )
    assert shop.get_order(order.order_id).version == parcel.version
    assert parcel.version == before + 2  # Fulfilled, StatusChanged(processing)


def test_a_line_ships_once_and_a_parcel_is_delivered_once(shop: Shop) -> None:
    order = two_seller_order(shop)
    parcel = ship(shop, order, order.seller_a, order.mug)
    with pytest.raises(Conflict) as again:
        ship(shop, order, order.seller_a, order.pot, order.mug)
    assert (again.value.code, again.value.details) == (
        "already_fulfilled",
        {"product_ids": [str(order.mug)]},
    )
    shop.deliver_fulfilment(
        order.order_id, parcel.fulfilment_id, seller_id=order.seller_a, context=CONTEXT
    )
    with pytest.raises(Conflict) as twice:
        shop.deliver_fulfilment(
            order.order_id, parcel.fulfilment_id, seller_id=order.seller_a, context=CONTEXT
        )
    assert twice.value.code == "already_delivered"
    with pytest.raises(NotFound):
        shop.deliver_fulfilment(order.order_id, uuid4(), seller_id=order.seller_a, context=CONTEXT)


@pytest.mark.parametrize("products", ["unknown", "empty", "twice"])
def test_lines_must_be_lines_of_the_order_named_once(shop: Shop, products: str) -> None:
    order = two_seller_order(shop)
    listed = {
        "unknown": [order.mug, uuid4()],
        "empty": [],
        "twice": [order.mug, order.mug],
    }[products]
    with pytest.raises(ValidationFailed) as refused:
        ship(shop, order, order.seller_a, *listed)
    assert list(refused.value.details) == ["product_ids"]
    assert shop.get_order(order.order_id).fulfilments == {}


@pytest.mark.parametrize(("field", "value"), [("carrier", ""), ("tracking_number", "A\x00B")])
def test_carrier_and_tracking_number_are_clean_text(shop: Shop, field: str, value: str) -> None:
    order = two_seller_order(shop)
    parcel = {"carrier": None, "tracking_number": None, field: value}
    with pytest.raises(ValidationFailed) as refused:
        shop.fulfil_order(
            order.order_id,
            product_ids=[order.mug],
            seller_id=order.seller_a,
            context=CONTEXT,
            **parcel,
        )
    assert list(refused.value.details) == [field]


def test_an_unpaid_or_cancelled_order_cannot_ship(shop: Shop) -> None:
    unpaid = two_seller_order(shop, paid=False)
    with pytest.raises(Conflict) as refused:
        ship(shop, unpaid, unpaid.seller_a, unpaid.mug)
    assert refused.value.code == "illegal_transition"
    shop.cancel_order(unpaid.order_id, reason="by customer", context=CONTEXT)
    with pytest.raises(Conflict):
        ship(shop, unpaid, unpaid.seller_a, unpaid.mug)


def test_nothing_shipped_can_be_cancelled(shop: Shop) -> None:
    order = two_seller_order(shop)
    ship(shop, order, order.seller_a, order.mug)
    with pytest.raises(Conflict) as refused:
        shop.cancel_order(order.order_id, reason="by customer", context=CONTEXT)
    assert refused.value.code == "illegal_transition"
    assert shop.get_order(order.order_id).status == "processing"


def test_the_status_command_and_fulfilments_never_disagree(shop: Shop) -> None:
    # given: an order a seller began to ship through fulfilments
    order = two_seller_order(shop)
    parcel = ship(shop, order, order.seller_a, order.mug, order.pot)
    # when / then: an admin's status change would leave lines or parcels behind
    with pytest.raises(Conflict) as refused:
        shop.advance_order(order.order_id, status="shipped", context=CONTEXT)
    assert refused.value.code == "fulfilled_per_seller"
    # given: another order an admin shipped with the status command
    legacy = two_seller_order(shop)
    for status in ("processing", "shipped"):
        shop.advance_order(legacy.order_id, status=status, context=CONTEXT)
    # when / then: its lines count as shipped
    with pytest.raises(Conflict) as late:
        ship(shop, legacy, legacy.seller_b, legacy.lamp)
    assert late.value.code == "illegal_transition"
    assert shop.get_order(order.order_id).version == parcel.version
