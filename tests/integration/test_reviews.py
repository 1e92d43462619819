"""Reviews: only buyers (order paid or later), once per product, rating 1..5."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.support.actors import Actor, make_actor
from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def bought(shop_app: Shop, customer: Actor, *, pay: bool) -> str:
    """A product the customer ordered (and paid for, if `pay`)."""
    product = create_product(
        shop_app,
        name="Kettle",
        description="",
        price=Decimal("20.00"),
        stock=5,
        seller_id=None,
        context=CommandContext(),
    ).id
    customer_id = customer.user.id  # type: ignore[union-attr]
    shop_app.add_to_cart(
        customer_id=customer_id, product_id=product, quantity=1, context=CommandContext()
    )
    order = shop_app.check_out(
        customer_id=customer_id, shipping_address=ADDRESS, context=CommandContext()
    )
    if pay:
        shop_app.pay_order(order.id, charge_id="ch_test", context=CommandContext())
    return str(product)


def review(actor: Actor, product_id: str, **body: Any) -> Any:
    return actor.client.post(
        f"/api/v1/products/{product_id}/reviews",
        {"rating": 4, "comment": "Good", **body},
        format="json",
    )


def test_a_buyer_reviews_once(shop_app: Shop) -> None:
    # given
    customer = make_actor(shop_app, "customer")
    product = bought(shop_app, customer, pay=True)
    # when
    first = review(customer, product, rating=5, comment="Boils fast")
    second = review(customer, product, rating=1)
    # then
    assert first.status_code == 201
    assert (first.json()["rating"], first.json()["comment"]) == (5, "Boils fast")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_reviewed")


def test_customers_who_did_not_pay_cannot_review(shop_app: Shop) -> None:
    customer, stranger = make_actor(shop_app, "customer"), make_actor(shop_app, "customer")
    unpaid = bought(shop_app, customer, pay=False)
    assert (review(customer, unpaid).status_code, review(stranger, unpaid).status_code) == (
        403,
        403,
    )
    assert review(customer, unpaid).json()["error"]["code"] == "not_a_buyer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"comment": "x" * 2001}, "comment"),
    ],
)
def test_review_input_is_checked(shop_app: Shop, body: dict[str, Any], field: str) -> None:
    customer = make_actor(shop_app, "customer")
    product = bought(shop_app, customer, pay=True)
    response = review(customer, product, **body)
    assert (response.status_code, list(response.json()["error"]["details"])) == (400, [field])
    assert review(customer, product).status_code == 201


def test_only_customers_review_and_unknown_products_are_404(shop_app: Shop) -> None:
    seller, customer = make_actor(shop_app, "seller"), make_actor(shop_app, "customer")
    product = bought(shop_app, customer, pay=True)
    assert review(seller, product).status_code == 403
    assert review(customer, str(uuid.uuid4())).status_code == 404
