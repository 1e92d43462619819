"""OrderPlaced schema 2 (currency, each line's category): new events carry it, schema 1 events
and envelopes read as schema 2 through the one upcast in contracts.schemas."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from contracts import event_types as events
from contracts.schemas import (
    SHOP_CURRENCY,
    current_data,
    current_envelope,
    order_placed_v1_v2,
    schema_of,
)
from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.order import Order
from write_api.published_events import PUBLISHED_TYPES, to_envelope

PRODUCT = "00000000-0000-0000-0000-0000000000b1"
V1_PLACED: dict[str, Any] = {
    "order_id": "00000000-0000-0000-0000-0000000000a1",
    "customer_id": "00000000-0000-0000-0000-0000000000d1",
    "lines": [
        {
            "product_id": PRODUCT,
            "name": "Mug",
            "unit_price": "12.50",
            "quantity": 2,
            "seller_id": None,
        }
    ],
    "total": "25.00",
    "shipping_address": ADDRESS,
}


def placed_order(shop: Shop) -> Order:
    """An order of two mugs of a product in a category, placed by today's code."""
    kitchen, _ = shop.add_category(name="Kitchen", parent_id=None, context=CONTEXT)
    mug = create_product(shop, name="Mug", price=Decimal("12.50"), category_id=kitchen).id
    customer = uuid4()
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=2, context=CONTEXT)
    return shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)


def as_schema_1(stored: StoredEvent) -> StoredEvent:
    """The stored event as a release before schema 2 wrote it: no currency, no line category,
    no class_version marker."""
    state = json.loads(stored.state)
    del state["currency"], state["class_version"]
    for line in state["lines"]:
        del line["category_id"]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def test_the_upcast_fills_the_shop_currency_and_an_unknown_category_in_place() -> None:
    # given
    data = copy.deepcopy(V1_PLACED)
    # when
    order_placed_v1_v2(data)
    # then
    assert data["currency"] == SHOP_CURRENCY
    assert data["lines"][0]["category_id"] is None
    assert {k: v for k, v in data.items() if k != "currency"} != V1_PLACED  # lines changed
    assert data["lines"][0] == {**V1_PLACED["lines"][0], "category_id": None}


def test_current_data_leaves_schema_2_data_alone_and_copies_before_upcasting() -> None:
    # given
    v2 = {**copy.deepcopy(V1_PLACED), "currency": "EUR"}
    v2["lines"][0]["category_id"] = PRODUCT  # any id
    original = copy.deepcopy(V1_PLACED)
    # when
    unchanged = current_data(events.ORDER_PLACED, 2, v2)
    upcast = current_data(events.ORDER_PLACED, 1, original)
    # then
    assert unchanged is v2
    assert (unchanged["currency"], unchanged["lines"][0]["category_id"]) == ("EUR", PRODUCT)
    assert (upcast["currency"], upcast["lines"][0]["category_id"]) == (SHOP_CURRENCY, None)
    assert original == V1_PLACED  # the caller's data is not changed


def test_a_schema_1_envelope_reads_as_schema_2_and_other_types_pass_through() -> None:
    # given
    old = {"type": events.ORDER_PLACED, "schema": 1, "data": copy.deepcopy(V1_PLACED)}
    paid = {"type": events.ORDER_PAID, "schema": 1, "data": {"charge_id": "ch_1"}}
    # when
    upcast = current_envelope(old)
    # then
    assert upcast["schema"] == 2
    assert upcast["data"]["currency"] == SHOP_CURRENCY
    assert upcast["data"]["lines"][0]["category_id"] is None
    assert old["schema"] == 1
    assert "currency" not in old["data"]
    assert current_envelope(paid) is paid


def test_every_published_event_class_declares_the_schema_its_type_is_published_in() -> None:
    # then
    mismatched = {
        name: getattr(cls, "class_version", 1)
        for cls, name in PUBLISHED_TYPES.items()
        if getattr(cls, "class_version", 1) != schema_of(name)
    }
    assert mismatched == {}
    assert schema_of(events.ORDER_PLACED) == 2


def test_a_new_order_records_the_shop_currency_and_each_line_s_category(shop: Shop) -> None:
    # when
    order = placed_order(shop)
    [placed] = shop.events.get(order.id)
    envelope = to_envelope(placed, position=3)
    # then
    assert (order.currency, shop.currency) == (SHOP_CURRENCY, SHOP_CURRENCY)
    assert envelope["schema"] == 2
    assert envelope["data"]["currency"] == SHOP_CURRENCY
    [category] = shop.category_tree().nodes
    assert [line["category_id"] for line in envelope["data"]["lines"]] == [str(category)]
    assert json.loads(shop.recorder.select_events(order.id)[0].state)["class_version"] == 2


def test_the_application_takes_the_currency_from_its_environment() -> None:
    # given
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "SHOP_CURRENCY": "EUR"})
    # when
    order = placed_order(shop)
    # then
    assert shop.get_order(order.id).currency == "EUR"


def test_a_stored_schema_1_order_loads_upcast_and_publishes_as_schema_2(shop: Shop) -> None:
    # given: the order's Placed event stored as a release before schema 2 wrote it
    order = placed_order(shop)
    [stored] = shop.recorder.select_events(order.id)
    old = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    old.recorder.insert_events([as_schema_1(stored)])
    # when
    loaded = old.get_order(order.id)
    [event] = old.events.get(order.id)
    envelope = to_envelope(event, position=1)
    # then
    assert (loaded.currency, loaded.total) == (SHOP_CURRENCY, Decimal("25.00"))
    assert [line["category_id"] for line in loaded.lines] == [None]
    assert envelope["schema"] == 2
    assert envelope["data"]["currency"] == SHOP_CURRENCY
    assert envelope["data"]["lines"][0]["category_id"] is None
