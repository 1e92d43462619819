"""Fifty customers race for five units over HTTP: exactly five orders, no unit lost or invented."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.live_stack import LiveStack
from tests.support.shop_data import ADDRESS

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

BUYERS = 50
UNITS = 5


def test_concurrent_checkouts_never_oversell(live_stack: LiveStack) -> None:
    # given: a product with 5 units in 50 customers' carts
    seller = live_stack.session("seller")
    product = seller.post(
        f"{live_stack.write_url}/api/v1/products",
        json={"name": "Last few", "description": "", "price": "9.99", "stock": UNITS},
        timeout=10,
    ).json()
    with ThreadPoolExecutor(max_workers=8) as pool:
        buyers = list(pool.map(lambda _: live_stack.session("customer"), range(BUYERS)))
    for buyer in buyers:
        added = buyer.post(
            f"{live_stack.write_url}/api/v1/cart/items",
            json={"product_id": product["id"], "quantity": 1},
            timeout=10,
        )
        assert added.status_code == 200, added.text

    # when: all check out at once
    def check_out(buyer: requests.Session) -> requests.Response:
        return buyer.post(
            f"{live_stack.write_url}/api/v1/checkout",
            json={"shipping_address": ADDRESS},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        responses = list(pool.map(check_out, buyers))
    # then
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * UNITS + [409] * (BUYERS - UNITS)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "out_of_stock"
    }
    stock = seller.post(
        f"{live_stack.write_url}/api/v1/products/{product['id']}/stock",
        json={"delta": 0},
        timeout=10,
    ).json()
    assert (stock["stock"], stock["reserved"]) == (UNITS, UNITS)
