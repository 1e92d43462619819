"""v2 search over HTTP: typo tolerance, facets, cursor pages stable while products change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.support.live_stack import LiveStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def search(stack: LiveStack, **params: Any) -> dict[str, Any]:
    response = requests.get(f"{stack.read_url}/api/v2/products/search", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return dict(response.json())


def create(stack: LiveStack, seller: requests.Session, **body: Any) -> dict[str, Any]:
    fields = {"description": "", "stock": 1, **body}
    return dict(seller.post(f"{stack.write_url}/api/v1/products", json=fields, timeout=10).json())


def test_typos_are_tolerated_and_facets_count_the_matches(live_stack: LiveStack) -> None:
    # given
    token = f"q{uuid.uuid4().hex[:6]}"
    seller = live_stack.session("seller")
    create(live_stack, seller, name=f"{token} telescope", price="120.00")
    create(live_stack, seller, name=f"{token} binoculars", price="20.00")
    eventually(lambda: search(live_stack, q=token)["count"] == 2)
    # when
    found = search(live_stack, q=f"{token} telescpe")
    # then
    assert found["results"][0]["name"] == f"{token} telescope"
    prices = {b["key"]: b["count"] for b in search(live_stack, q=token)["facets"]["price_ranges"]}
    assert (prices["100_and_up"], prices["10_to_25"], prices["under_10"]) == (1, 1, 0)
    assert (
        requests.get(f"{live_stack.read_url}/api/v1/products/search", timeout=5).status_code == 404
    )


def test_cursor_pages_neither_skip_nor_repeat_while_products_are_added(
    live_stack: LiveStack,
) -> None:
    # given: five products, read two at a time, newest first
    token = f"c{uuid.uuid4().hex[:6]}"
    seller = live_stack.session("seller")
    made = [
        create(live_stack, seller, name=f"{token} item {i}", price="1.00")["id"] for i in range(5)
    ]
    eventually(lambda: search(live_stack, q=token)["count"] == 5)
    first = search(live_stack, q=token, ordering="-created", page_size=2)
    # when: a newer product arrives between pages
    newer = create(live_stack, seller, name=f"{token} item new", price="1.00")["id"]
    eventually(lambda: search(live_stack, q=token)["count"] == 6)
    second = requests.get(first["next"], timeout=5).json()
    third = requests.get(second["next"], timeout=5).json()
    back = requests.get(second["previous"], timeout=5).json()
    # then
    seen = [p["id"] for page in (first, second, third) for p in page["results"]]
    assert seen == list(reversed(made))
    assert newer not in seen
    assert third["next"] is None
    assert [p["id"] for p in back["results"]] == [p["id"] for p in first["results"]]


def test_bad_cursor_is_400(live_stack: LiveStack) -> None:
    response = requests.get(
        f"{live_stack.read_url}/api/v2/products/search", params={"cursor": "garbage!"}, timeout=5
    )
    assert (response.status_code, list(response.json()["error"]["details"])) == (400, ["cursor"])


def test_suggest_completes_names_from_a_prefix_of_any_word(live_stack: LiveStack) -> None:
    # given
    token = f"s{uuid.uuid4().hex[:6]}"
    seller = live_stack.session("seller")
    create(live_stack, seller, name=f"{token}lantern brass", price="30.00")
    create(live_stack, seller, name=f"{token}ladder oak", price="60.00")
    url = f"{live_stack.read_url}/api/v2/products/suggest"
    # when
    both = eventually(
        lambda: (
            len((r := requests.get(url, params={"q": token}, timeout=5).json())["suggestions"]) == 2
            and r
        )
    )
    one = requests.get(url, params={"q": f"{token}lan"}, timeout=5).json()
    # then
    assert sorted(both["suggestions"]) == [f"{token}ladder oak", f"{token}lantern brass"]
    assert one == {"suggestions": [f"{token}lantern brass"]}
    assert requests.get(url, params={"q": ""}, timeout=5).status_code == 400
