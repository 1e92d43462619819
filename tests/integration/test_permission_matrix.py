"""Every route of the accounts & catalog commands, and of a marketplace order's fulfilment
and tracking, called by every kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from projections.shopping.projector import ShoppingProjector
from tests.support.actors import PASSWORD, Actor, make_actor
from tests.support.marketplace import TwoSellerOrder, two_seller_order
from tests.support.shop_data import create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CALLERS = ("anonymous", "customer", "seller", "other_seller", "admin")


@dataclass
class World:
    actors: dict[str, Actor]
    product_id: str
    category_id: str
    target_user_id: str


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    body: Callable[[World, Actor], Any]
    expected: dict[str, int]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def users_only(status: int) -> dict[str, int]:
    return {**everyone(status), "anonymous": 401}


def admin_only(status: int) -> dict[str, int]:
    return {"anonymous": 401, "customer": 403, "seller": 403, "other_seller": 403, "admin": status}


def owner_or_admin(status: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "customer": 403,
        "seller": status,
        "other_seller": 403,
        "admin": status,
    }


def seller_credentials(world: World, _: Actor) -> dict[str, str]:
    return {"email": world.actors["seller"].user.email, "password": PASSWORD}  # type: ignore[union-attr]


def new_product(world: World, _: Actor) -> dict[str, Any]:
    return {"name": "Stool", "description": "", "price": "20.00", "stock": 2}


ROUTES = [
    Route(
        "signup",
        "post",
        "/api/v1/auth/signup",
        lambda w, a: {"email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
        everyone(201),
    ),
    Route("token", "post", "/api/v1/auth/token", seller_credentials, everyone(200)),
    Route(
        "token-refresh",
        "post",
        "/api/v1/auth/token/refresh",
        lambda w, a: {"refresh": str(RefreshToken.for_user(w.actors["seller"].user))},
        everyone(200),
    ),
    Route(
        "logout",
        "post",
        "/api/v1/auth/logout",
        lambda w, a: {"refresh": a.refresh},
        users_only(205),
    ),
    Route("me", "get", "/api/v1/auth/me", lambda w, a: None, users_only(200)),
    Route(
        "user-role",
        "post",
        "/api/v1/users/{target_user_id}/role",
        lambda w, a: {"role": "seller"},
        admin_only(200),
    ),
    Route(
        "user-deactivate",
        "post",
        "/api/v1/users/{target_user_id}/deactivate",
        lambda w, a: None,
        admin_only(200),
    ),
    Route(
        "user-reactivate",
        "post",
        "/api/v1/users/{target_user_id}/reactivate",
        lambda w, a: None,
        admin_only(200),
    ),
    Route(
        "category-create",
        "post",
        "/api/v1/categories",
        lambda w, a: {"name": f"C {uuid.uuid4().hex[:8]}"},
        admin_only(201),
    ),
    Route(
        "category-change",
        "patch",
        "/api/v1/categories/{category_id}",
        lambda w, a: {"name": f"C {uuid.uuid4().hex[:8]}"},
        admin_only(200),
    ),
    Route(
        "product-create",
        "post",
        "/api/v1/products",
        new_product,
        {**owner_or_admin(201), "other_seller": 201},
    ),
    Route(
        "product-change",
        "patch",
        "/api/v1/products/{product_id}",
        lambda w, a: {"price": "3.00"},
        owner_or_admin(200),
    ),
    Route(
        "product-stock",
        "post",
        "/api/v1/products/{product_id}/stock",
        lambda w, a: {"delta": 1},
        owner_or_admin(200),
    ),
    Route(
        "product-discontinue",
        "delete",
        "/api/v1/products/{product_id}",
        lambda w, a: None,
        owner_or_admin(204),
    ),
]


@pytest.fixture
def world(shop_app: Shop) -> World:
    actors = {
        "anonymous": make_actor(shop_app, None),
        "customer": make_actor(shop_app, "customer"),
        "seller": make_actor(shop_app, "seller"),
        "other_seller": make_actor(shop_app, "seller"),
        "admin": make_actor(shop_app, "admin"),
    }
    seller = actors["seller"].user
    assert seller is not None
    product = create_product(
        shop_app,
        name="Chair",
        description="",
        price=Decimal("10.00"),
        stock=5,
        seller_id=seller.id,
        context=CommandContext(),
    )
    category_id, _ = shop_app.add_category(
        name=f"Root {uuid.uuid4().hex[:8]}", parent_id=None, context=CommandContext()
    )
    target = make_actor(shop_app, "customer").user
    assert target is not None
    return World(actors, str(product.id), str(category_id), str(target.id))


@pytest.mark.parametrize(
    ("route", "caller"),
    [(route, caller) for route in ROUTES for caller in CALLERS],
    ids=[f"{route.name}-{caller}" for route in ROUTES for caller in CALLERS],
)
def test_route_answers_each_caller_as_the_contract_says(
    world: World, route: Route, caller: str
) -> None:
    # given
    actor = world.actors[caller]
    path = route.path.format(**vars(world))
    # when
    response = getattr(actor.client, route.method)(path, route.body(world, actor), format="json")
    # then
    assert response.status_code == route.expected[caller], response.content
    if response.status_code >= 400:
        assert response.json()["error"]["code"] in {"not_authenticated", "permission_denied"}


# -- a marketplace order: each seller acts on, and reads, only its own lines -------------
ORDER_CALLERS = (
    "anonymous",
    "customer",
    "stranger",
    "seller",
    "other_seller",
    "stranger_seller",
    "admin",
)
ORDER_REFUSALS = {
    "not_authenticated",
    "permission_denied",
    "not_your_line",
    "not_a_seller_of_order",
}


@dataclass
class OrderWorld:
    """`seller` sells the mug and the pot (the pot shipped in `fulfilment_id`), `other_seller`
    the lamp; `stranger_seller` sells nothing in the order, `stranger` did not buy it."""

    actors: dict[str, Actor]
    order: TwoSellerOrder
    fulfilment_id: str

    @property
    def order_id(self) -> str:
        return str(self.order.order_id)

    @property
    def mug(self) -> str:
        return str(self.order.mug)


def order_commands(**expected: int) -> dict[str, int]:
    """Sellers and admins fulfil; a seller is refused another seller's lines (403)."""
    return {
        "anonymous": 401,
        "customer": 403,
        "stranger": 403,
        "other_seller": 403,
        "stranger_seller": 403,
        **expected,
    }


ORDER_ROUTES = [
    Route(
        "fulfil",
        "post",
        "/api/v1/orders/{order_id}/fulfilments",
        lambda w, a: {"product_ids": [w.mug], "carrier": "DHL"},
        order_commands(seller=201, admin=201),
    ),
    Route(
        "deliver",
        "post",
        "/api/v1/orders/{order_id}/fulfilments/{fulfilment_id}/deliver",
        lambda w, a: None,
        order_commands(seller=200, admin=200),
    ),
    Route(
        "read-order",
        "get",
        "read:/api/v1/orders/{order_id}",
        lambda w, a: None,
        {
            "anonymous": 401,
            "customer": 200,
            "stranger": 404,
            "seller": 200,
            "other_seller": 200,
            "stranger_seller": 404,
            "admin": 200,
        },
    ),
    Route(
        "read-orders",
        "get",
        "read:/api/v1/orders",
        lambda w, a: None,
        {**dict.fromkeys(ORDER_CALLERS, 200), "anonymous": 401},
    ),
]


@pytest.fixture
def order_world(shop_app: Shop) -> OrderWorld:
    actors = {caller: make_actor(shop_app, ROLE_OF.get(caller, caller)) for caller in ORDER_CALLERS}
    ids = {caller: actor.user.id for caller, actor in actors.items() if actor.user}
    order = two_seller_order(
        shop_app,
        customer_id=ids["customer"],
        seller_a=ids["seller"],
        seller_b=ids["other_seller"],
    )
    shipped = shop_app.fulfil_order(
        order.order_id,
        product_ids=[order.pot],
        carrier=None,
        tracking_number="TRK-1",
        seller_id=ids["seller"],
        context=CommandContext(actor_id=str(ids["seller"]), actor_role="seller"),
    )
    project_order(shop_app, order.order_id)
    return OrderWorld(actors, order, str(shipped.fulfilment_id))


ROLE_OF: dict[str, str | None] = {
    "anonymous": None,
    "stranger": "customer",
    "other_seller": "seller",
    "stranger_seller": "seller",
}


def project_order(shop_app: Shop, order_id: uuid.UUID) -> None:
    """Project every event of the order into its read rows, as the pipeline would."""
    events = list(shop_app.events.get(order_id))
    ShoppingProjector().apply([to_envelope(e, position=n) for n, e in enumerate(events, 1)])


def call(world: OrderWorld, route: Route, caller: str, settings: Any) -> Any:
    api, _, path = route.path.rpartition(":")
    settings.ROOT_URLCONF = "infra.urls.read_api" if api == "read" else "infra.urls.write_api"
    actor = world.actors[caller]
    return getattr(actor.client, route.method)(
        path.format(order_id=world.order_id, fulfilment_id=world.fulfilment_id),
        route.body(world, actor),
        format="json",
    )


@pytest.mark.parametrize(
    ("route", "caller"),
    [(route, caller) for route in ORDER_ROUTES for caller in ORDER_CALLERS],
    ids=[f"{route.name}-{caller}" for route in ORDER_ROUTES for caller in ORDER_CALLERS],
)
def test_order_route_answers_each_caller_as_the_contract_says(
    order_world: OrderWorld, route: Route, caller: str, settings: Any, shop_app: Shop
) -> None:
    # given
    before = shop_app.get_order(order_world.order.order_id).version
    # when
    response = call(order_world, route, caller, settings)
    # then
    assert response.status_code == route.expected[caller], response.content
    if response.status_code in (401, 403):
        assert response.json()["error"]["code"] in ORDER_REFUSALS
    if response.status_code >= 400:
        assert shop_app.get_order(order_world.order.order_id).version == before  # unchanged


@pytest.mark.parametrize(
    ("caller", "items", "total", "parcels"),
    [
        ("customer", {"Mug", "Pot", "Lamp"}, "45.00", [["pot"]]),
        ("admin", {"Mug", "Pot", "Lamp"}, "45.00", [["pot"]]),
        ("seller", {"Mug", "Pot"}, "15.00", [["pot"]]),
        ("other_seller", {"Lamp"}, "30.00", []),
    ],
)
def test_each_party_reads_only_its_part_of_a_marketplace_order(
    order_world: OrderWorld,
    caller: str,
    items: set[str],
    total: str,
    parcels: list[list[str]],
    settings: Any,
) -> None:
    # when
    detail = call(order_world, ORDER_ROUTES[2], caller, settings).json()
    rows = call(order_world, ORDER_ROUTES[3], caller, settings).json()["results"]
    # then: lines, prices and totals of the caller's part only
    assert {item["name"] for item in detail["items"]} == items
    assert (detail["total"], detail["subtotal"]) == (total, total)
    assert [(row["id"], row["total"]) for row in rows] == [(order_world.order_id, total)]
    assert detail["shipping_address"]["city"] == "Springfield"
    names = {str(order_world.order.pot): "pot", order_world.mug: "mug"}
    assert [[names[p] for p in f["product_ids"]] for f in detail["fulfilments"]] == parcels
    if parcels:
        assert detail["fulfilments"][0] | {"shipped_at": None} == {
            "id": order_world.fulfilment_id,
            "product_ids": [str(order_world.order.pot)],
            "status": "shipped",
            "carrier": None,
            "tracking_number": "TRK-1",
            "shipped_at": None,
            "delivered_at": None,
        }
    assert detail["status"] == "processing"
