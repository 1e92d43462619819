"""v2 product time travel: a product as of a time, and its history, rebuilt from the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest
from django.test import override_settings

from adapters.clients import opensearch_client
from projections.audit.models import AuditEvent
from projections.audit.projector import AuditProjector
from projections.catalog.models import ReviewView
from projections.catalog.projector import CatalogProjector
from projections.catalog.search_index import SearchIndex
from read_api.cursor import Cursor
from tests.support.actors import Actor, make_actor
from tests.support.shop_data import ADDRESS, CONTEXT, add_category
from write_api.application import Shop
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def from_now(shop_app: Shop) -> int:
    """The event-store position before the test: what it stores comes after."""
    return shop_app.recorder.max_notification_id() or 0


def project_since(shop_app: Shop, start: int, *, index: SearchIndex | None = None) -> None:
    """Project every event stored after `start` into the audit log (and the catalog rows)."""
    notifications = shop_app.recorder.select_notifications(
        start=start, limit=100_000, inclusive_of_start=False
    )
    envelopes = [to_envelope(shop_app.mapper.to_domain_event(n), n.id) for n in notifications]
    AuditProjector().apply(envelopes)
    if index is not None:
        CatalogProjector(index).apply(envelopes)


def read(actor: Actor, path: str, params: dict[str, Any] | None = None) -> Any:
    with override_settings(ROOT_URLCONF="infra.urls.read_api"):
        return actor.client.get(path, params or {})


def follow(actor: Actor, url: str) -> Any:
    """GET a link an answer gave (absolute) through the test client."""
    parts = urlsplit(url)
    return read(actor, f"{parts.path}?{parts.query}")


def repriced_and_restocked(seller: Actor) -> str:
    """A product created at 10.00 with 5 in stock, repriced to 12.00, then 3 more in stock."""
    created = seller.client.post(
        "/api/v1/products",
        {"name": "Tin kettle", "description": "Whistles.", "price": "10.00", "stock": 5},
        format="json",
    )
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    path = f"/api/v1/products/{product_id}"
    assert seller.client.patch(path, {"price": "12.00"}, format="json").status_code == 200
    assert seller.client.post(f"{path}/stock", {"delta": 3}, format="json").status_code == 200
    return str(product_id)


def occurred(product_id: str) -> list[datetime]:
    """When each event of the product happened, in version order."""
    rows = AuditEvent.objects.filter(aggregate_id=product_id).order_by("version")
    return list(rows.values_list("occurred_at", flat=True))


def as_of(product_id: str, when: datetime, api: str = "v2") -> Any:
    anonymous = make_actor(None, None)  # type: ignore[arg-type]
    return read(anonymous, f"/api/{api}/products/{product_id}", {"as_of": when.isoformat()})


def test_the_product_as_of_each_moment_has_the_price_and_stock_it_had_then(
    shop_app: Shop, seller: Actor, from_now: int
) -> None:
    # given
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now)
    created, repriced, restocked = occurred(product_id)
    # when
    first = as_of(product_id, created)
    between = as_of(product_id, restocked - timedelta(microseconds=1))
    future = as_of(product_id, datetime.now(UTC) + timedelta(days=1))
    # then
    assert first.status_code == 200, first.content
    assert first.json() == {
        "id": product_id,
        "name": "Tin kettle",
        "description": "Whistles.",
        "price": "10.00",
        "category": None,
        "seller_id": str(seller.user.id),  # type: ignore[union-attr]
        "stock_available": 5,
        "rating": {"average": None, "count": 0},
        "created_at": created.isoformat(),
        "version": 1,
        "discontinued": False,
        "as_of": created.isoformat(),
    }
    assert repriced < restocked
    assert [between.json()[k] for k in ("price", "stock_available", "version")] == ["12.00", 5, 2]
    assert [future.json()[k] for k in ("price", "stock_available", "version")] == ["12.00", 8, 3]


def test_the_product_as_of_a_time_has_its_category_name_and_rating_of_then(
    shop_app: Shop, seller: Actor, from_now: int
) -> None:
    # given: a product in "Kitchen", reviewed once, then the category renamed and a second
    # review written
    category = add_category(shop_app, f"Kitchen {uuid4().hex[:6]}")
    created = seller.client.post(
        "/api/v1/products",
        {"name": "Pan", "description": "", "price": "30.00", "stock": 2, "category_id": category},
        format="json",
    )
    product_id = created.json()["id"]
    then = datetime.now(UTC)
    shop_app.change_category(category, name="Cookware", context=CONTEXT)
    project_since(shop_app, from_now)
    for stars, at in ((4, then - timedelta(seconds=1)), (1, then + timedelta(seconds=1))):
        ReviewView.objects.create(
            id=uuid4(), product_id=product_id, customer_id=uuid4(), rating=stars, created_at=at
        )
    # when
    past = as_of(product_id, then).json()
    now = as_of(product_id, datetime.now(UTC) + timedelta(seconds=2)).json()
    # then
    assert past["category"]["id"] == str(category)
    assert past["category"]["name"].startswith("Kitchen ")
    assert past["category"]["path"] == past["category"]["name"]
    assert past["rating"] == {"average": "4.00", "count": 1}
    assert (now["category"]["name"], now["category"]["path"]) == ("Cookware", "Cookware")
    assert now["rating"] == {"average": "2.50", "count": 2}


def test_as_of_before_the_product_existed_or_on_v1_or_unknown_is_404_and_bad_time_400(
    shop_app: Shop, seller: Actor, from_now: int
) -> None:
    # given
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now)
    created = occurred(product_id)[0]
    anonymous = make_actor(None, None)  # type: ignore[arg-type]
    # when
    before = as_of(product_id, created - timedelta(microseconds=1))
    on_v1 = as_of(product_id, created, api="v1")
    unknown = as_of(str(uuid4()), created)
    bad = read(anonymous, f"/api/v2/products/{product_id}", {"as_of": "last tuesday"})
    # then
    assert [before.status_code, on_v1.status_code, unknown.status_code] == [404, 404, 404]
    assert before.json()["error"]["code"] == "not_found"
    assert "v2" in on_v1.json()["error"]["message"]
    assert bad.status_code == 400
    assert (bad.json()["error"]["code"], list(bad.json()["error"]["details"])) == (
        "validation_error",
        ["as_of"],
    )


@pytest.fixture
def index(isolated_namespace: str) -> Any:
    search = SearchIndex(opensearch_client(), isolated_namespace)
    search.ensure()
    yield search
    for name in search.client.indices.get(index=f"{search.alias}_v*", ignore_unavailable=True):
        search.client.indices.delete(index=name)


def test_as_of_answers_past_the_cache_and_leaves_the_cached_detail_current(
    shop_app: Shop, seller: Actor, from_now: int, index: SearchIndex
) -> None:
    # given: the current detail served once, so cached
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now, index=index)
    anonymous = make_actor(None, None)  # type: ignore[arg-type]
    live = read(anonymous, f"/api/v2/products/{product_id}")
    # when
    past = as_of(product_id, occurred(product_id)[0])
    live_again = read(anonymous, f"/api/v2/products/{product_id}")
    # then
    assert json.loads(live.content)["price"] == "12.00"
    assert past.json()["price"] == "10.00"
    assert "ETag" not in past
    assert (json.loads(live_again.content)["price"], live_again["ETag"]) == ("12.00", live["ETag"])


def test_the_history_lists_each_change_with_old_and_new_values_and_its_actor(
    shop_app: Shop, seller: Actor, from_now: int
) -> None:
    # given
    product_id = repriced_and_restocked(seller)
    assert seller.client.delete(f"/api/v1/products/{product_id}").status_code == 204
    project_since(shop_app, from_now)
    # when
    response = read(seller, f"/api/v2/products/{product_id}/history")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (4, None, None)
    entries = body["results"]
    seller_id = str(seller.user.id)  # type: ignore[union-attr]
    assert [(e["version"], e["type"]) for e in entries] == [
        (1, "ProductCreated"),
        (2, "ProductRepriced"),
        (3, "ProductStockAdjusted"),
        (4, "ProductDiscontinued"),
    ]
    assert [e["position"] for e in entries] == sorted(e["position"] for e in entries)
    assert {e["actor"]["id"] for e in entries} == {seller_id}
    assert {e["actor"]["role"] for e in entries} == {"seller"}
    assert entries[0]["changes"]["price"] == {"from": None, "to": "10.00"}
    assert entries[0]["changes"]["stock_available"] == {"from": None, "to": 5}
    assert entries[1]["changes"] == {"price": {"from": "10.00", "to": "12.00"}}
    assert entries[2]["changes"] == {
        "stock": {"from": 5, "to": 8},
        "stock_available": {"from": 5, "to": 8},
    }
    assert entries[3]["changes"] == {"discontinued": {"from": False, "to": True}}
    assert entries[1]["at"] == occurred(product_id)[1].isoformat()


def test_a_checkout_shows_as_a_reservation_by_a_customer_whose_id_only_admins_see(
    shop_app: Shop, seller: Actor, customer: Actor, admin: Actor, from_now: int
) -> None:
    # given: a customer checks out 2 of the 8 in stock
    product_id = repriced_and_restocked(seller)
    cart = {"product_id": product_id, "quantity": 2}
    assert customer.client.post("/api/v1/cart/items", cart, format="json").status_code == 200
    checkout = customer.client.post(
        "/api/v1/checkout", {"shipping_address": ADDRESS}, format="json"
    )
    assert checkout.status_code == 201, checkout.content
    project_since(shop_app, from_now)
    path = f"/api/v2/products/{product_id}/history"
    # when
    as_seller = read(seller, path).json()["results"][-1]
    as_admin = read(admin, path).json()["results"][-1]
    # then
    assert (as_seller["type"], as_seller["version"]) == ("ProductReserved", 4)
    assert as_seller["changes"] == {
        "reserved": {"from": 0, "to": 2},
        "stock_available": {"from": 8, "to": 6},
    }
    assert as_seller["actor"] == {"id": None, "role": "customer"}
    assert as_admin["actor"] == {"id": str(customer.user.id), "role": "customer"}  # type: ignore[union-attr]


def test_the_history_pages_by_number_and_by_cursor(
    shop_app: Shop, seller: Actor, from_now: int
) -> None:
    # given: three events
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now)
    path = f"/api/v2/products/{product_id}/history"
    # when
    first = read(seller, path, {"page_size": 2}).json()
    second = read(seller, path, {"page_size": 2, "page": 2}).json()
    # then
    assert first["count"] == 3
    assert urlsplit(first["next"]).path == path
    assert parse_qs(urlsplit(first["next"]).query) == {"page": ["2"], "page_size": ["2"]}
    assert [e["version"] for e in first["results"]] == [1, 2]
    assert [e["version"] for e in second["results"]] == [3]
    assert second["results"][0]["changes"]["stock"] == {"from": 5, "to": 8}
    assert second["next"] is None


def test_the_history_follows_cursors_forwards_and_back(
    shop_app: Shop, seller: Actor, from_now: int
) -> None:
    # given
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now)
    path = f"/api/v2/products/{product_id}/history"
    # when: a cursor after version 1, then its next and previous links
    middle = read(seller, path, {"page_size": 1, "cursor": Cursor([1]).encode()}).json()
    last = follow(seller, middle["next"])
    back = follow(seller, middle["previous"])
    # then
    assert [e["version"] for e in middle["results"]] == [2]
    assert middle["results"][0]["changes"] == {"price": {"from": "10.00", "to": "12.00"}}
    assert "count" not in middle
    assert [e["version"] for e in last.json()["results"]] == [3]
    assert last.json()["next"] is None
    assert [e["version"] for e in back.json()["results"]] == [1]
    assert back.json()["previous"] is None
    bad = read(seller, path, {"cursor": "not a cursor"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "validation_error")


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("owner", 200),
        ("other_seller", 403),
        ("customer", 403),
        ("analyst", 200),
        ("admin", 200),
        ("anonymous", 401),
    ],
)
def test_the_history_is_for_its_seller_admins_and_analysts(
    shop_app: Shop, seller: Actor, from_now: int, caller: str, status: int
) -> None:
    # given
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now)
    role = {"owner": None, "other_seller": "seller", "anonymous": None}.get(caller, caller)
    actor = seller if caller == "owner" else make_actor(shop_app, role)
    # when
    response = read(actor, f"/api/v2/products/{product_id}/history")
    # then
    assert response.status_code == status, response.content
    if status == 200:
        assert len(response.json()["results"]) == 3
    else:
        assert "results" not in response.json()


def test_history_of_an_unknown_product_or_on_v1_is_404(
    shop_app: Shop, seller: Actor, admin: Actor, from_now: int
) -> None:
    # given
    product_id = repriced_and_restocked(seller)
    project_since(shop_app, from_now)
    # when
    unknown = read(admin, f"/api/v2/products/{uuid4()}/history")
    on_v1 = read(admin, f"/api/v1/products/{product_id}/history")
    # then
    assert (unknown.status_code, on_v1.status_code) == (404, 404)
    assert on_v1.json()["error"]["code"] == "not_found"
