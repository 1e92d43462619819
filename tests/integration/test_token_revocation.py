"""Access tokens carry the user's identity; deactivation and role changes still revoke them at once.

A request reads no user row while Redis holds the user's token version; without that copy
(lost, or Redis away) the row decides, exactly as before.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_redis import get_redis_connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from adapters import token_versions
from tests.integration.test_shopping import product
from tests.support.actors import Actor, make_actor
from tests.support.stall import stalled
from write_api.accounts import services
from write_api.accounts.models import User
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ADMIN = CommandContext(actor_id=str(uuid.uuid4()), actor_role="admin")


def bearer(token: str) -> APIClient:
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def add_to_cart(client: APIClient, product_id: str) -> Any:
    return client.post(
        "/api/v1/cart/items", {"product_id": product_id, "quantity": 1}, format="json"
    )


@pytest.fixture
def mug(shop_app: Shop, seller: Actor) -> str:
    return product(shop_app, seller, stock=50)


def test_log_in_issues_an_access_token_with_role_display_name_and_token_version(
    shop_app: Shop,
) -> None:
    # given
    anonymous = APIClient(SERVER_NAME="localhost")
    body = {"email": "tea@example.com", "password": "a long passphrase", "display_name": "Tea"}
    assert anonymous.post("/api/v1/auth/signup", body, format="json").status_code == 201
    # when
    tokens = anonymous.post(
        "/api/v1/auth/token",
        {"email": body["email"], "password": body["password"]},
        format="json",
    ).json()
    # then
    access = claims(tokens["access"])
    assert (access["role"], access["display_name"], access["token_version"]) == (
        "customer",
        "Tea",
        0,
    )
    assert "role" not in claims(tokens["refresh"])


def test_a_command_reads_no_user_row(customer: Actor, mug: str) -> None:
    # given: the customer's version is in Redis (log-in or a first request puts it there)
    assert add_to_cart(customer.client, mug).status_code == 200
    # when
    with CaptureQueriesContext(connection) as queries:
        response = add_to_cart(customer.client, mug)
    # then
    assert response.status_code == 200
    assert response.json()["items"] == [{"product_id": mug, "quantity": 2}]
    assert [q["sql"] for q in queries.captured_queries] == []


def test_a_deactivated_users_next_request_is_refused(
    shop_app: Shop, customer: Actor, mug: str
) -> None:
    # given
    assert customer.user is not None
    assert add_to_cart(customer.client, mug).status_code == 200
    # when
    services.deactivate(shop_app, customer.user.id, context=ADMIN)
    # then
    refused = add_to_cart(customer.client, mug)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "user_inactive")
    assert shop_app.cart_of(customer.user.id).lines == {uuid.UUID(mug): 1}


def test_a_demoted_seller_is_refused_at_once_and_a_refresh_carries_the_new_role(
    shop_app: Shop, admin: Actor, seller: Actor
) -> None:
    # given
    assert seller.user is not None
    product = {"name": "Lamp", "description": "", "price": "20.00", "stock": 1}
    assert seller.client.post("/api/v1/products", product, format="json").status_code == 201
    # when
    demoted = admin.client.post(
        f"/api/v1/users/{seller.user.id}/role", {"role": "customer"}, format="json"
    )
    old_token = seller.client.post("/api/v1/products", product, format="json")
    refreshed = APIClient(SERVER_NAME="localhost").post(
        "/api/v1/auth/token/refresh", {"refresh": seller.refresh}, format="json"
    )
    new_token = bearer(refreshed.json()["access"]).post("/api/v1/products", product, format="json")
    # then
    assert demoted.status_code == 200
    assert (old_token.status_code, old_token.json()["error"]["code"]) == (401, "token_not_valid")
    assert refreshed.status_code == 200
    assert claims(refreshed.json()["access"])["role"] == "customer"
    assert claims(refreshed.json()["access"])["token_version"] == 1
    assert new_token.status_code == 403


def test_a_role_change_to_the_same_role_revokes_nothing(
    shop_app: Shop, admin: Actor, seller: Actor
) -> None:
    # given
    assert seller.user is not None
    # when
    response = admin.client.post(
        f"/api/v1/users/{seller.user.id}/role", {"role": "seller"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert User.objects.get(id=seller.user.id).token_version == 0
    assert seller.client.get("/api/v1/auth/me").status_code == 200


def test_a_revoked_token_stays_refused_when_redis_lost_the_version(
    shop_app: Shop, customer: Actor, mug: str
) -> None:
    # given
    assert customer.user is not None
    services.deactivate(shop_app, customer.user.id, context=ADMIN)
    # when
    get_redis_connection("default").delete(token_versions.key(customer.user.id))
    # then
    assert add_to_cart(customer.client, mug).status_code == 401


def test_a_version_redis_lost_is_rebuilt_from_the_row_and_the_token_still_works(
    customer: Actor, mug: str
) -> None:
    # given
    assert customer.user is not None
    redis = get_redis_connection("default")
    redis.delete(token_versions.key(customer.user.id))
    # when
    response = add_to_cart(customer.client, mug)
    # then
    assert response.status_code == 200
    assert redis.get(token_versions.key(customer.user.id)) == b"0"


def test_redis_never_takes_an_older_version_than_it_holds(customer: Actor) -> None:
    # given
    assert customer.user is not None
    token_versions.publish(customer.user.id, 3)
    # when: a reader that read the row before the change copies what it saw
    token_versions.remember(customer.user.id, 2)
    # then
    assert token_versions.current(customer.user.id) == 3


def test_without_redis_the_user_row_decides(shop_app: Shop, customer: Actor, mug: str) -> None:
    # given
    assert customer.user is not None
    victim = make_actor(shop_app, "customer")
    assert victim.user is not None
    services.deactivate(shop_app, victim.user.id, context=ADMIN)
    # when
    with stalled(settings.REDIS_URL):
        allowed = add_to_cart(customer.client, mug)
        refused = add_to_cart(victim.client, mug)
    # then
    assert allowed.status_code == 200
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "user_inactive")


def test_a_deactivation_redis_cannot_take_changes_nothing(
    shop_app: Shop, admin: Actor, customer: Actor, mug: str
) -> None:
    # given
    assert customer.user is not None
    # when
    with stalled(settings.REDIS_URL):
        response = admin.client.post(f"/api/v1/users/{customer.user.id}/deactivate")
    # then
    assert (response.status_code, response.json()["error"]["code"]) == (503, "service_unavailable")
    stored = User.objects.get(id=customer.user.id)
    assert (stored.is_active, stored.token_version) == (True, 0)
    assert [type(e).__name__ for e in shop_app.events.get(customer.user.id)] == ["Created"]
    assert add_to_cart(customer.client, mug).status_code == 200


def test_a_token_issued_without_identity_claims_is_checked_against_the_row(
    shop_app: Shop, customer: Actor
) -> None:
    # given: an access token of the kind issued before identity claims
    assert customer.user is not None
    plain = bearer(str(RefreshToken.for_user(customer.user).access_token))
    # when
    before = plain.get("/api/v1/auth/me")
    services.deactivate(shop_app, customer.user.id, context=ADMIN)
    after = plain.get("/api/v1/auth/me")
    # then
    assert (before.status_code, before.json()["email"]) == (200, customer.user.email)
    assert (after.status_code, after.json()["error"]["code"]) == (401, "user_inactive")


@pytest.mark.parametrize(
    "forged",
    [{"role": 5}, {"token_version": "0"}, {"display_name": None, "role": "admin"}],
)
def test_malformed_identity_claims_are_a_401(customer: Actor, forged: dict[str, Any]) -> None:
    # given: a correctly signed token whose identity claims are not what log-in writes
    assert customer.user is not None
    token = AccessToken(customer.access)
    for name, value in forged.items():
        token[name] = value
    # when
    response = bearer(str(token)).get("/api/v1/auth/me")
    # then
    assert (response.status_code, response.json()["error"]["code"]) == (401, "token_not_valid")


def test_the_access_token_of_a_deleted_user_is_refused(customer: Actor) -> None:
    # given
    assert customer.user is not None
    assert customer.client.get("/api/v1/auth/me").status_code == 200
    # when
    User.objects.filter(id=customer.user.id).delete()
    # then
    response = customer.client.get("/api/v1/auth/me")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "user_not_found")


@pytest.mark.urls("infra.urls.read_api")
def test_the_read_api_refuses_a_deactivated_users_token_too(
    shop_app: Shop, customer: Actor
) -> None:
    # given
    assert customer.user is not None
    assert customer.client.get("/api/v1/cart").status_code == 200
    # when
    services.deactivate(shop_app, customer.user.id, context=ADMIN)
    # then
    assert customer.client.get("/api/v1/cart").status_code == 401
