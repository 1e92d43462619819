"""HTTP on both ports: a product goes from command to search through every real component."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.live_stack import LiveStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def stored_event_count(stack: LiveStack) -> int:
    [(count,)] = stack.sql("SELECT count(*) FROM shopstream_events")
    return int(count)


def read(stack: LiveStack, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{stack.read_url}{path}", params=params, timeout=5)


def when_found(stack: LiveStack, count: int, **params: Any) -> dict[str, Any]:
    """The first search page once it counts `count` products."""
    page = eventually(
        lambda: (
            (body := read(stack, "/api/v1/products", **params).json())["count"] == count and body
        )
    )
    return dict(page)


def create_product(stack: LiveStack, seller: requests.Session, **body: Any) -> dict[str, Any]:
    fields = {"name": "Thing", "description": "", "price": "10.00", "stock": 1, **body}
    response = seller.post(f"{stack.write_url}/api/v1/products", json=fields, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_created_product_becomes_readable_and_searchable(live_stack: LiveStack) -> None:
    # given
    token = f"zebra{uuid.uuid4().hex[:8]}"
    seller = live_stack.session("seller")
    # when
    created = create_product(
        live_stack,
        seller,
        name=f"Walnut {token} desk",
        description="Solid wood",
        price="249.90",
        stock=4,
    )
    # then
    assert created["version"] == 1
    path = f"/api/v1/products/{created['id']}"
    detail = eventually(lambda: (r := read(live_stack, path)).status_code == 200 and r).json()
    assert detail == {
        "id": created["id"],
        "name": f"Walnut {token} desk",
        "description": "Solid wood",
        "price": "249.90",
        "category": None,
        "seller_id": created["seller_id"],
        "stock_available": 4,
        "rating": {"average": None, "count": 0},
        "created_at": detail["created_at"],
        "version": 1,
    }
    found = when_found(live_stack, 1, search=token)
    assert found["results"] == [detail]
    v2 = read(live_stack, "/api/v2/products", search=token).json()
    assert [p["id"] for p in v2["results"]] == [created["id"]]


def test_search_pages_carry_count_and_links(live_stack: LiveStack) -> None:
    # given
    token = f"paged{uuid.uuid4().hex[:8]}"
    seller = live_stack.session("seller")
    for i in range(3):
        create_product(live_stack, seller, name=f"{token} lamp {i}")
    # when
    first = when_found(live_stack, 3, search=token, page_size=2)
    second = requests.get(first["next"], timeout=5).json()
    # then
    assert (len(first["results"]), first["previous"]) == (2, None)
    assert (len(second["results"]), second["next"]) == (1, None)
    assert second["previous"] is not None
    ids = {p["id"] for p in first["results"]} | {p["id"] for p in second["results"]}
    assert len(ids) == 3


def test_category_filter_includes_subcategories_and_the_tree_is_served(
    live_stack: LiveStack,
) -> None:
    # given
    admin, seller = live_stack.session("admin"), live_stack.session("seller")
    token = f"cat{uuid.uuid4().hex[:8]}"
    url = f"{live_stack.write_url}/api/v1/categories"
    home = admin.post(url, json={"name": f"Home {token}"}, timeout=10).json()
    kitchen = admin.post(url, json={"name": "Kitchen", "parent_id": home["id"]}, timeout=10).json()
    create_product(live_stack, seller, name=f"{token} pan", category_id=kitchen["id"])
    create_product(live_stack, seller, name=f"{token} rug", category_id=home["id"])
    create_product(live_stack, seller, name=f"{token} loose")
    # when
    in_home = when_found(live_stack, 2, search=token, category=home["id"])
    in_kitchen = when_found(live_stack, 1, search=token, category=kitchen["id"])
    tree = read(live_stack, "/api/v1/categories").json()
    # then
    assert {p["name"] for p in in_home["results"]} == {f"{token} pan", f"{token} rug"}
    assert in_kitchen["results"][0]["category"] == {
        "id": kitchen["id"],
        "name": "Kitchen",
        "path": f"Home {token}/Kitchen",
    }
    [node] = [n for n in tree if n["id"] == home["id"]]
    assert [c["name"] for c in node["children"]] == ["Kitchen"]


def test_concurrent_stock_changes_lose_no_update(live_stack: LiveStack) -> None:
    # given
    seller = live_stack.session("seller")
    product = create_product(live_stack, seller, stock=0)
    url = f"{live_stack.write_url}/api/v1/products/{product['id']}/stock"
    # when: 24 increments race each other across gunicorn workers and threads
    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(
            pool.map(lambda _: seller.post(url, json={"delta": 1}, timeout=30), range(24))
        )
    # then: each increment either applied (200) or was refused whole (409), never lost
    applied = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert all(r.json()["error"]["code"] == "conflict" for r in refused)
    assert len(applied) >= 8  # most succeed through retries; the rest are refused whole
    final = seller.post(url, json={"delta": 0}, timeout=10).json()
    assert (final["stock"], final["version"]) == (len(applied), len(applied) + 1)
    assert sorted(r.json()["stock"] for r in applied) == list(range(1, len(applied) + 1))


def test_bad_input_is_refused_over_http_and_stores_nothing(live_stack: LiveStack) -> None:
    # given
    seller = live_stack.session("seller")
    before = stored_event_count(live_stack)
    url = f"{live_stack.write_url}/api/v1/products"
    # when
    malformed = seller.post(
        url, data="{oops", headers={"Content-Type": "application/json"}, timeout=10
    )
    missing = seller.post(url, json={"name": "x"}, timeout=10)
    anonymous = requests.post(url, json={"name": "x"}, timeout=10)
    # then
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "validation_error")
    assert missing.status_code == 400
    assert set(missing.json()["error"]["details"]) == {"description", "price", "stock"}
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "not_authenticated")
    assert stored_event_count(live_stack) == before


def test_unknown_product_and_bad_query_answer_in_the_envelope(live_stack: LiveStack) -> None:
    unknown = read(live_stack, f"/api/v1/products/{uuid.uuid4()}")
    not_a_uuid = read(live_stack, "/api/v1/products/42")
    bad_page = read(live_stack, "/api/v1/products", page="x")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert (not_a_uuid.status_code, not_a_uuid.json()["error"]["code"]) == (404, "not_found")
    assert (bad_page.status_code, bad_page.json()["error"]["code"]) == (400, "validation_error")
    assert list(bad_page.json()["error"]["details"]) == ["page"]


@pytest.mark.parametrize("api", ["write_url", "read_url"])
def test_both_apis_answer_health_and_readiness_and_echo_request_ids(
    live_stack: LiveStack, api: str
) -> None:
    base = getattr(live_stack, api)
    health = requests.get(f"{base}/healthz", headers={"X-Request-ID": "e2e-probe"}, timeout=5)
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert health.headers["X-Request-ID"] == "e2e-probe"
    assert ready.status_code == 200
    assert set(ready.json()["checks"].values()) == {"ok"}


def test_filters_and_ordering_narrow_and_sort_search(live_stack: LiveStack) -> None:
    # given: one seller's three products and another seller's one, sharing a token
    token = f"flt{uuid.uuid4().hex[:8]}"
    mine, other = live_stack.session("seller"), live_stack.session("seller")
    cheap = create_product(live_stack, mine, name=f"{token} cheap", price="5.00", stock=0)
    mid = create_product(live_stack, mine, name=f"{token} mid", price="15.00", stock=2)
    dear = create_product(live_stack, mine, name=f"{token} dear", price="90.00", stock=1)
    create_product(live_stack, other, name=f"{token} theirs", price="15.00", stock=1)
    when_found(live_stack, 4, search=token)

    def names(**params: Any) -> list[str]:
        page = read(live_stack, "/api/v1/products", search=token, **params).json()
        return [p["name"].removeprefix(f"{token} ") for p in page["results"]]

    # when / then
    assert names(ordering="price")[:1] == ["cheap"]
    by_price_down = names(ordering="-price")
    assert (by_price_down[0], sorted(by_price_down[1:3]), by_price_down[3]) == (
        "dear",
        ["mid", "theirs"],
        "cheap",
    )
    assert sorted(names(min_price="10", max_price="20")) == ["mid", "theirs"]
    assert sorted(names(in_stock="true")) == ["dear", "mid", "theirs"]
    assert sorted(names(seller=mid["seller_id"])) == ["cheap", "dear", "mid"]
    assert names(seller=cheap["seller_id"], in_stock="true", ordering="-price") == ["dear", "mid"]
    assert dear["seller_id"] == mid["seller_id"]
