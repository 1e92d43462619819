"""Every route of the accounts & catalog commands, called by every kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from tests.support.actors import PASSWORD, Actor, make_actor
from tests.support.shop_data import create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

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
