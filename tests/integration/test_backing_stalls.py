"""A stalled Redis or OpenSearch (SIGSTOP, as an overloaded host looks) never makes a 500.

Without Redis the read API reads PostgreSQL, throttles let requests through and
X-Min-Version answers stale; without OpenSearch, search answers 503 within 2 s.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from kombu.exceptions import OperationalError as BrokerError
from opensearchpy.exceptions import (
    ConnectionTimeout,
    NotFoundError,
    RequestError,
    TransportError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.clients import search_client
from infra.errors import api_exception_handler
from projections.catalog.models import CategoryView, ProductView
from projections.catalog.search_index import SearchIndex
from read_api.cursor import Cursor
from read_api.search import ProductQuery
from read_api.search_v2 import product_search_page
from tests.support.actors import PASSWORD, Actor
from tests.support.shop_data import create_product
from tests.support.stall import stalled
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

BOUND_SECONDS = 2.0


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture
def projected_product() -> ProductView:
    """A product as the catalog projector leaves it in the read model."""
    now = datetime.now(UTC)
    category_id = uuid.uuid4()
    category = CategoryView.objects.create(
        id=category_id,
        name="Kitchen",
        path_ids=[str(category_id)],
        path_names=["Kitchen"],
        path="Kitchen",
        depth=0,
    )
    return ProductView.objects.create(
        id=uuid.uuid4(),
        name="Cast iron teapot",
        description="",
        price=Decimal("45.00"),
        category_id=category.id,
        stock=3,
        created_at=now,
        updated_at=now,
        version=2,
    )


@pytest.mark.urls("infra.urls.read_api")
def test_without_redis_product_detail_and_categories_come_from_postgresql(
    projected_product: ProductView,
) -> None:
    # given
    client = Client(SERVER_NAME="localhost")
    path = f"/api/v1/products/{projected_product.id}"
    # when
    with stalled(settings.REDIS_URL):
        detail, detail_took = timed(lambda: client.get(path))
        tree, tree_took = timed(lambda: client.get("/api/v1/categories"))
    # then
    assert (detail.status_code, detail.json()["name"]) == (200, "Cast iron teapot")
    assert detail_took < BOUND_SECONDS
    assert tree.status_code == 200
    assert [c["name"] for c in tree.json()] == ["Kitchen"]
    assert tree_took < BOUND_SECONDS
    # and when Redis is back, the same answers come (and are cached again)
    assert client.get(path).json() == detail.json()


@pytest.mark.urls("infra.urls.read_api")
def test_without_redis_v1_search_asks_opensearch_directly() -> None:
    # given
    client = Client(SERVER_NAME="localhost")
    # when
    with stalled(settings.REDIS_URL):
        response, took = timed(lambda: client.get("/api/v1/products", {"search": uuid.uuid4().hex}))
    # then
    assert response.status_code == 200
    assert (response.json()["count"], response.json()["results"]) == (0, [])
    assert took < BOUND_SECONDS


@pytest.mark.urls("infra.urls.read_api")
def test_without_redis_a_read_your_writes_wait_answers_stale(
    projected_product: ProductView,
) -> None:
    # given: the client asks for a version the projector has not applied yet
    client = Client(SERVER_NAME="localhost")
    path = f"/api/v1/products/{projected_product.id}"
    headers = {"X-Min-Version": f"{projected_product.id}:3"}
    # when
    with stalled(settings.REDIS_URL):
        response, took = timed(lambda: client.get(path, headers=headers))
    # then
    assert response.status_code == 200
    assert response["X-Consistency"] == "stale"
    assert response.json()["version"] == 2
    assert took < BOUND_SECONDS


def test_without_redis_add_to_cart_and_log_in_are_not_throttled_away(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    assert seller.user is not None
    mug = str(
        create_product(
            shop_app,
            name="Mug",
            description="",
            price=Decimal("9.00"),
            stock=5,
            seller_id=seller.user.id,
            context=CommandContext(),
        ).id
    )
    assert customer.user is not None
    credentials = {"email": customer.user.email, "password": PASSWORD}
    # when
    with stalled(settings.REDIS_URL):
        added, add_took = timed(
            lambda: customer.client.post(
                "/api/v1/cart/items", {"product_id": mug, "quantity": 2}, format="json"
            )
        )
        login, login_took = timed(
            lambda: Client(SERVER_NAME="localhost").post(
                "/api/v1/auth/token", credentials, content_type="application/json"
            )
        )
    # then
    assert (added.status_code, added.json()["items"]) == (
        200,
        [{"product_id": mug, "quantity": 2}],
    )
    assert add_took < BOUND_SECONDS
    assert (login.status_code, sorted(login.json())) == (200, ["access", "refresh"])
    assert login_took < BOUND_SECONDS


@pytest.mark.urls("infra.urls.read_api")
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v2/products/search", {"q": "teapot"}),
        ("/api/v1/products", {"search": "teapot"}),
        ("/api/v2/products/suggest", {"q": "tea"}),
    ],
)
def test_search_answers_503_within_two_seconds_while_opensearch_stalls(
    path: str, params: dict[str, str]
) -> None:
    # given: a query no cached page answers
    client = Client(SERVER_NAME="localhost")
    params = {**params, "seller": str(uuid.uuid4())} if "suggest" not in path else params
    # when
    with stalled(settings.OPENSEARCH_URL):
        response, took = timed(lambda: client.get(path, params))
    # then
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
    assert took < BOUND_SECONDS


def test_a_query_opensearch_refuses_is_a_400_not_a_503(isolated_namespace: str) -> None:
    # given: a cursor past our validation, which the real server refuses with a 400
    index = SearchIndex(search_client(), isolated_namespace)
    index.ensure()
    with pytest.raises(RequestError) as refused:
        product_search_page(search_client(), index.alias, ProductQuery(), Cursor(["x", "y"]), 2)
    # when
    response = api_exception_handler(refused.value, {"request": None})
    # then
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid_search"


def test_an_unreachable_task_broker_or_a_redis_timeout_is_a_503() -> None:
    for error in (BrokerError("Error 110 connecting"), RedisTimeoutError("Timeout reading")):
        response = api_exception_handler(error, {"request": None})
        assert (response.status_code, response["Retry-After"]) == (503, "5")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ConnectionTimeout("TIMEOUT", "read timed out", None), 503),
        (TransportError(502, "bad_gateway", {}), 503),
        (TransportError(429, "too_many_requests", {}), 503),
        (NotFoundError(404, "index_not_found_exception", {}), 500),
    ],
)
def test_opensearch_errors_are_503_only_when_the_server_is_away_or_overloaded(
    error: Exception, status: int
) -> None:
    response = api_exception_handler(error, {"request": None})
    assert response.status_code == status
