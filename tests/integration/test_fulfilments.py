"""Fulfilment commands over the write API, and their parcels in the order read model."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from projections.shopping.models import OrderFulfilmentView, OrderStatusChange, OrderView
from projections.shopping.projector import ShoppingProjector
from tests.support.actors import Actor
from tests.support.marketplace import TwoSellerOrder, two_seller_order
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
CONTEXT = CommandContext(actor_id="s1", actor_role="seller")
ADMIN = CommandContext(actor_id="a1", actor_role="admin")


@pytest.fixture
def order(shop_app: Shop, customer: Actor, seller: Actor) -> TwoSellerOrder:
    assert customer.user
    assert seller.user
    return two_seller_order(shop_app, customer_id=customer.user.id, seller_a=seller.user.id)


def fulfil(actor: Actor, order: TwoSellerOrder, body: Any) -> Any:
    return actor.client.post(f"/api/v1/orders/{order.order_id}/fulfilments", body, format="json")


def envelopes(shop_app: Shop, order_id: uuid.UUID) -> list[dict[str, Any]]:
    events = shop_app.events.get(order_id)
    return [to_envelope(e, position=n) for n, e in enumerate(events, start=1)]


def test_a_seller_ships_its_lines_and_gets_the_parcel_back(
    shop_app: Shop, order: TwoSellerOrder, seller: Actor
) -> None:
    # when
    response = fulfil(
        seller,
        order,
        {"product_ids": [str(order.mug)], "carrier": "DHL", "tracking_number": "JD1"},
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "order_id": str(order.order_id),
        "product_ids": [str(order.mug)],
        "status": "shipped",
        "order_status": "processing",
        "version": shop_app.get_order(order.order_id).version,
    }
    events = list(shop_app.events.get(order.order_id))
    assert events[-2].metadata["actor_id"] == str(seller.user.id)  # type: ignore[attr-defined,union-attr]
    assert events[-2].metadata["actor_role"] == "seller"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_ids": []}, "product_ids"),
        ({"product_ids": ["not-a-uuid"]}, "product_ids"),
        ({"product_ids": "all"}, "product_ids"),
        ({}, "product_ids"),
        ({"product_ids": ["{unknown}"]}, "product_ids"),
        ({"product_ids": ["{mug}", "{mug}"]}, "product_ids"),
        ({"product_ids": ["{mug}"], "carrier": ""}, "carrier"),
        ({"product_ids": ["{mug}"], "carrier": 7}, "carrier"),
        ({"product_ids": ["{mug}"], "tracking_number": "x" * 101}, "tracking_number"),
        ({"product_ids": ["{mug}"], "tracking_number": "a\u0000b"}, "tracking_number"),
        ({"product_ids": ["{mug}"], "status": "delivered"}, "status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    shop_app: Shop, order: TwoSellerOrder, seller: Actor, body: dict[str, Any], field: str
) -> None:
    # given
    names = {"{mug}": str(order.mug), "{unknown}": str(uuid.uuid4())}
    if isinstance(body.get("product_ids"), list):
        body = {**body, "product_ids": [names.get(p, p) for p in body["product_ids"]]}
    before = shop_app.get_order(order.order_id).version
    # when
    response = fulfil(seller, order, body)
    # then
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], list(error["details"])) == ("validation_error", [field])
    assert shop_app.get_order(order.order_id).version == before


def test_refusals_have_stable_codes_and_change_nothing(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: an unpaid order, and a paid one whose mug has shipped
    assert customer.user
    assert seller.user
    unpaid = two_seller_order(shop_app, paid=False, seller_a=seller.user.id)
    order = two_seller_order(shop_app, customer_id=customer.user.id, seller_a=seller.user.id)
    assert fulfil(seller, order, {"product_ids": [str(order.mug)]}).status_code == 201
    version = shop_app.get_order(order.order_id).version
    # when
    refusals = {
        "unpaid": fulfil(seller, unpaid, {"product_ids": [str(unpaid.mug)]}),
        "again": fulfil(seller, order, {"product_ids": [str(order.pot), str(order.mug)]}),
        "not_mine": fulfil(seller, order, {"product_ids": [str(order.lamp)]}),
        "customer": fulfil(customer, order, {"product_ids": [str(order.pot)]}),
        "cancel": customer.client.post(f"/api/v1/orders/{order.order_id}/cancel"),
        "status": admin.client.post(
            f"/api/v1/orders/{order.order_id}/status", {"status": "shipped"}, format="json"
        ),
        "unknown_parcel": seller.client.post(
            f"/api/v1/orders/{order.order_id}/fulfilments/{uuid.uuid4()}/deliver"
        ),
    }
    refusals["no_order"] = seller.client.post(  # an order that does not exist
        f"/api/v1/orders/{uuid.uuid4()}/fulfilments",
        {"product_ids": [str(order.pot)]},
        format="json",
    )
    # then
    assert {name: (r.status_code, r.json()["error"]["code"]) for name, r in refusals.items()} == {
        "unpaid": (409, "illegal_transition"),
        "again": (409, "already_fulfilled"),
        "not_mine": (403, "not_your_line"),
        "customer": (403, "permission_denied"),
        "cancel": (409, "illegal_transition"),
        "status": (409, "fulfilled_per_seller"),
        "no_order": (404, "not_found"),
        "unknown_parcel": (404, "not_found"),
    }
    assert shop_app.get_order(order.order_id).version == version
    assert shop_app.get_order(unpaid.order_id).fulfilments == {}


def test_parcels_are_projected_once_whatever_the_batches_and_redeliveries(
    shop_app: Shop, order: TwoSellerOrder
) -> None:
    # given: A ships both lines, B ships the lamp, both are delivered
    a = shop_app.fulfil_order(
        order.order_id,
        product_ids=[order.mug, order.pot],
        carrier="DHL",
        tracking_number=None,
        seller_id=order.seller_a,
        context=CONTEXT,
    )
    placed = envelopes(shop_app, order.order_id)
    b = shop_app.fulfil_order(
        order.order_id,
        product_ids=[order.lamp],
        carrier=None,
        tracking_number=None,
        seller_id=order.seller_b,
        context=CONTEXT,
    )
    shop_app.deliver_fulfilment(
        order.order_id, a.fulfilment_id, seller_id=order.seller_a, context=CONTEXT
    )
    shop_app.deliver_fulfilment(order.order_id, b.fulfilment_id, seller_id=None, context=ADMIN)
    every = envelopes(shop_app, order.order_id)
    projector = ShoppingProjector()
    # when: A's parcel in one batch; then everything again, B's parcel shipped and delivered
    # in the same batch as A's delivery
    projector.apply(placed)
    projector.apply(every)
    projector.apply(every[-3:])
    # then
    parcels = {
        str(f.id): (f.product_ids, f.status, f.carrier, f.delivered_at is not None)
        for f in OrderFulfilmentView.objects.filter(order_id=order.order_id)
    }
    assert parcels == {
        str(a.fulfilment_id): ([str(order.mug), str(order.pot)], "delivered", "DHL", True),
        str(b.fulfilment_id): ([str(order.lamp)], "delivered", "", True),
    }
    view = OrderView.objects.get(id=order.order_id)
    assert (view.status, view.version) == ("delivered", every[-1]["version"])
    history = OrderStatusChange.objects.filter(order_id=order.order_id)
    assert [(h.status, h.by_role) for h in history] == [
        ("pending_payment", "seller"),
        ("paid", "payment_gateway"),
        ("processing", "seller"),
        ("shipped", "seller"),
        ("delivered", "admin"),
    ]


def test_sellers_shipping_at_the_same_moment_ship_the_order_exactly_once(shop_app: Shop) -> None:
    # given: five two-seller orders
    orders = [two_seller_order(shop_app) for _ in range(5)]
    parcels = [
        (order, seller, lines)
        for order in orders
        for seller, lines in (
            (order.seller_a, [order.mug, order.pot]),
            (order.seller_b, [order.lamp]),
        )
    ]
    # when: both sellers of each order ship at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda parcel: shop_app.fulfil_order(
                    parcel[0].order_id,
                    product_ids=parcel[2],
                    carrier=None,
                    tracking_number=None,
                    seller_id=parcel[1],
                    context=CONTEXT,
                ),
                parcels,
            )
        )
    # then: whoever saved second (after a retry if they collided) shipped the order
    for order in orders:
        ours = [r for r in results if r.id == order.order_id]
        assert sorted(r.order_status for r in ours) == ["processing", "shipped"]
        statuses = [
            e.status  # type: ignore[attr-defined]
            for e in shop_app.events.get(order.order_id)
            if type(e).__name__ == "StatusChanged"
        ]
        assert statuses == ["processing", "shipped"]
