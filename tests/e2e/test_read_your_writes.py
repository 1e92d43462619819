"""X-Min-Version waits for the projection; product detail is cached with ETag and never stale."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.support.live_stack import LiveStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_read_with_x_min_version_sees_the_write_it_names(live_stack: LiveStack) -> None:
    # given
    seller = live_stack.session("seller")
    created = seller.post(
        f"{live_stack.write_url}/api/v1/products",
        json={"name": "Fresh bread", "description": "", "price": "3.00", "stock": 9},
        timeout=10,
    ).json()
    # when: read at once, asking for the version the command returned (a very busy
    # machine may take longer than the 2 s bound: such an answer must say it is stale)
    answers = [
        requests.get(
            f"{live_stack.read_url}/api/v1/products/{created['id']}",
            headers={"X-Min-Version": f"{created['id']}:{created['version']}"},
            timeout=5,
        )
        for _ in range(3)
    ]
    # then: every answer not marked stale has the version asked for
    fresh = [a for a in answers if "X-Consistency" not in a.headers]
    assert fresh, "no answer within three bounded waits"
    assert all((a.status_code, a.json()["version"]) == (200, created["version"]) for a in fresh)
    assert all(a.headers["X-Consistency"] == "stale" for a in answers if a not in fresh)


def test_a_version_that_never_comes_answers_stale_within_the_bound(live_stack: LiveStack) -> None:
    # given
    product_id = str(uuid.uuid4())
    # when
    started = time.monotonic()
    response = requests.get(
        f"{live_stack.read_url}/api/v1/products",
        headers={"X-Min-Version": f"{product_id}:7"},
        timeout=10,
    )
    elapsed = time.monotonic() - started
    # then
    assert response.status_code == 200
    assert response.headers["X-Consistency"] == "stale"
    assert 1.9 <= elapsed < 6


def test_a_malformed_x_min_version_is_400(live_stack: LiveStack) -> None:
    response = requests.get(
        f"{live_stack.read_url}/api/v1/products", headers={"X-Min-Version": "nope"}, timeout=5
    )
    assert (response.status_code, list(response.json()["error"]["details"])) == (
        400,
        ["X-Min-Version"],
    )


def test_product_detail_answers_304_until_a_change_is_projected(live_stack: LiveStack) -> None:
    # given
    seller = live_stack.session("seller")
    w, r = f"{live_stack.write_url}/api/v1", f"{live_stack.read_url}/api/v1"
    created = seller.post(
        f"{w}/products",
        json={"name": "Cup", "description": "", "price": "4.00", "stock": 1},
        timeout=10,
    ).json()
    url = f"{r}/products/{created['id']}"
    first = eventually(lambda: (x := requests.get(url, timeout=5)).status_code == 200 and x)
    tag = first.headers["ETag"]
    # when / then: unchanged → 304
    again = requests.get(url, headers={"If-None-Match": tag}, timeout=5)
    assert (again.status_code, again.content) == (304, b"")
    # when: the price changes and is projected
    seller.patch(f"{w}/products/{created['id']}", json={"price": "4.50"}, timeout=10)
    fresh = eventually(
        lambda: (
            (x := requests.get(url, headers={"If-None-Match": tag}, timeout=5)).status_code == 200
            and x
        )
    )
    # then: the cache never serves the old price
    assert fresh.status_code == 200
    assert fresh.json()["price"] == "4.50"
    assert fresh.headers["ETag"] != tag


def test_a_cached_search_page_never_shows_a_price_the_projector_has_replaced(
    live_stack: LiveStack,
) -> None:
    # given: a search page served (and cached) with the old price
    seller = live_stack.session("seller")
    token = f"cache{uuid.uuid4().hex[:6]}"
    w, r = f"{live_stack.write_url}/api/v1", f"{live_stack.read_url}/api/v1/products"
    created = seller.post(
        f"{w}/products",
        json={"name": f"{token} jar", "description": "", "price": "6.00", "stock": 1},
        timeout=10,
    ).json()
    eventually(lambda: requests.get(r, params={"search": token}, timeout=5).json()["count"] == 1)
    assert (
        requests.get(r, params={"search": token}, timeout=5).json()["results"][0]["price"] == "6.00"
    )
    # when: the price changes
    seller.patch(f"{w}/products/{created['id']}", json={"price": "7.00"}, timeout=10)
    # then: once projected, every read (without any header) shows the new price
    eventually(lambda: requests.get(f"{r}/{created['id']}", timeout=5).json()["price"] == "7.00")
    prices = {
        requests.get(r, params={"search": token}, timeout=5).json()["results"][0]["price"]
        for _ in range(5)
    }
    assert prices == {"7.00"}


def test_a_missing_product_that_was_waited_for_says_it_is_stale(live_stack: LiveStack) -> None:
    product_id = str(uuid.uuid4())
    response = requests.get(
        f"{live_stack.read_url}/api/v1/products/{product_id}",
        headers={"X-Min-Version": f"{product_id}:1"},
        timeout=10,
    )
    assert (response.status_code, response.headers["X-Consistency"]) == (404, "stale")
    assert response.json()["error"]["code"] == "not_found"
