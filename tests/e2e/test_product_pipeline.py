"""HTTP on both ports: a product goes from command to search through every real component."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import LiveStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def stored_event_count(stack: LiveStack) -> int:
    [(count,)] = stack.sql("SELECT count(*) FROM shopstream_events")
    return int(count)


def test_a_created_product_becomes_readable_and_searchable(live_stack: LiveStack) -> None:
    # given
    token = f"zebra{uuid.uuid4().hex[:8]}"
    body = {
        "name": f"Walnut {token} desk",
        "description": "Solid wood",
        "price": "249.90",
        "stock": 4,
    }
    # when
    created = requests.post(f"{live_stack.write_url}/api/v1/products", json=body, timeout=10)
    # then
    assert created.status_code == 201
    product_id = created.json()["id"]
    assert created.json()["version"] == 1
    detail = eventually(
        lambda: (
            (
                r := requests.get(f"{live_stack.read_url}/api/v1/products/{product_id}", timeout=5)
            ).status_code
            == 200
            and r
        )
    )
    assert detail.json() == {
        "id": product_id,
        "name": f"Walnut {token} desk",
        "description": "Solid wood",
        "price": "249.90",
        "category": None,
        "seller_id": None,
        "stock_available": 4,
        "rating": {"average": None, "count": 0},
        "created_at": detail.json()["created_at"],
        "version": 1,
    }
    found = eventually(
        lambda: (
            (
                r := requests.get(
                    f"{live_stack.read_url}/api/v1/products", params={"search": token}, timeout=5
                )
            ).json()["count"]
            == 1
            and r
        )
    )
    assert [p["id"] for p in found.json()["results"]] == [product_id]
    assert found.json()["results"][0] == detail.json()
    v2 = requests.get(f"{live_stack.read_url}/api/v2/products", params={"search": token}, timeout=5)
    assert [p["id"] for p in v2.json()["results"]] == [product_id]


def test_search_pages_carry_count_and_links(live_stack: LiveStack) -> None:
    # given
    token = f"paged{uuid.uuid4().hex[:8]}"
    for i in range(3):
        body = {"name": f"{token} lamp {i}", "description": "", "price": "10.00", "stock": 1}
        assert (
            requests.post(
                f"{live_stack.write_url}/api/v1/products", json=body, timeout=10
            ).status_code
            == 201
        )
    # when
    url = f"{live_stack.read_url}/api/v1/products"
    first = eventually(
        lambda: (
            (r := requests.get(url, params={"search": token, "page_size": 2}, timeout=5)).json()[
                "count"
            ]
            == 3
            and r
        )
    )
    second = requests.get(first.json()["next"], timeout=5)
    # then
    assert len(first.json()["results"]) == 2
    assert first.json()["previous"] is None
    assert len(second.json()["results"]) == 1
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None
    ids = {p["id"] for p in first.json()["results"]} | {p["id"] for p in second.json()["results"]}
    assert len(ids) == 3


def test_bad_input_is_refused_over_http_and_stores_nothing(live_stack: LiveStack) -> None:
    # given
    before = stored_event_count(live_stack)
    # when
    malformed = requests.post(
        f"{live_stack.write_url}/api/v1/products",
        data="{oops",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    missing = requests.post(
        f"{live_stack.write_url}/api/v1/products", json={"name": "x"}, timeout=10
    )
    # then
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "validation_error"
    assert missing.status_code == 400
    assert set(missing.json()["error"]["details"]) == {"description", "price", "stock"}
    assert stored_event_count(live_stack) == before


def test_unknown_product_and_bad_query_answer_in_the_envelope(live_stack: LiveStack) -> None:
    unknown = requests.get(f"{live_stack.read_url}/api/v1/products/{uuid.uuid4()}", timeout=5)
    not_a_uuid = requests.get(f"{live_stack.read_url}/api/v1/products/42", timeout=5)
    bad_page = requests.get(
        f"{live_stack.read_url}/api/v1/products", params={"page": "x"}, timeout=5
    )
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
