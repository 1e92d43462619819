"""Concurrent checkouts of carts that share several products (PostgreSQL): the optimistic
retry sells exactly the stock, whatever order the carts hold the products in."""

from __future__ import annotations

import threading
from uuid import UUID, uuid4

import pytest

from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.errors import Conflict

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def customer_with(shop: Shop, *products: UUID) -> UUID:
    customer = uuid4()
    for product in products:
        shop.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=CONTEXT)
    return customer


def test_concurrent_checkouts_of_two_products_in_any_order_sell_exactly_the_stock(
    shop_app: Shop,
) -> None:
    # given: 3 units of each of two products, and 16 carts holding both, in either order
    mug, cup = create_product(shop_app, stock=3).id, create_product(shop_app, stock=3).id
    customers = [customer_with(shop_app, *((mug, cup) if n % 2 else (cup, mug))) for n in range(16)]
    start = threading.Barrier(len(customers))
    outcomes: list[str] = []

    def race(customer: UUID) -> None:
        start.wait()
        try:
            shop_app.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
        except Conflict as refused:
            outcomes.append(refused.code)
        else:
            outcomes.append("placed")

    # when: all check out at once
    threads = [threading.Thread(target=race, args=(customer,)) for customer in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: 3 orders, each with one unit of both; every other checkout refused for stock
    assert sorted(outcomes) == ["out_of_stock"] * 13 + ["placed"] * 3
    for product in (mug, cup):
        saved = shop_app.get_product(product)
        assert (saved.stock, saved.reserved, saved.available) == (3, 3, 0)
