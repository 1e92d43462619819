"""Sign-up, JWT log-in, refresh rotation, log-out, and every way a token can be wrong."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django import db
from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.support.actors import PASSWORD, Actor, make_actor
from write_api.accounts import services
from write_api.accounts.models import User
from write_api.application import Shop
from write_api.domain.errors import ValidationFailed
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient(SERVER_NAME="localhost")


def signup(client: APIClient, **body: Any) -> Any:
    return client.post("/api/v1/auth/signup", body, format="json")


def test_signup_creates_a_customer_by_default_and_records_the_account_event(
    anonymous: APIClient, shop_app: Shop
) -> None:
    # when
    response = signup(anonymous, email="Ann@Example.com", password=PASSWORD)
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"]) == ("ann@example.com", "customer")
    user = User.objects.get(id=body["id"])
    assert user.check_password(PASSWORD)
    assert shop_app.get_account(user.id).role == "customer"


def test_passwords_are_hashed_with_argon2_outside_tests() -> None:
    # given: the production hasher list (tests swap in a fast one)
    from infra.settings import base

    hasher = import_string(base.PASSWORD_HASHERS[0])()
    # when
    encoded = hasher.encode(PASSWORD, hasher.salt())
    # then
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify(PASSWORD, encoded)


def test_signup_may_choose_seller(anonymous: APIClient, shop_app: Shop) -> None:
    response = signup(anonymous, email="sam@example.com", password=PASSWORD, role="seller")
    assert (response.status_code, response.json()["role"]) == (201, "seller")


def test_signup_may_choose_a_public_display_name(anonymous: APIClient, shop_app: Shop) -> None:
    # when
    named = signup(
        anonymous, email="tea@example.com", password=PASSWORD, display_name=" Tea Lover "
    )
    unnamed = signup(anonymous, email="quiet@example.com", password=PASSWORD)
    # then
    assert (named.status_code, named.json()["display_name"]) == (201, "Tea Lover")
    assert (unnamed.status_code, unnamed.json()["display_name"]) == (201, "")
    assert User.objects.get(id=named.json()["id"]).display_name == "Tea Lover"
    assert shop_app.get_account(named.json()["id"]).display_name == "Tea Lover"


@pytest.mark.parametrize("display_name", ["x" * 41, "Ann\u0007", "Ann\nBob", 42])
def test_signup_refuses_a_bad_display_name_and_creates_nothing(
    anonymous: APIClient, shop_app: Shop, display_name: object
) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = signup(
        anonymous, email="odd@example.com", password=PASSWORD, display_name=display_name
    )
    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["display_name"]
    assert not User.objects.filter(email="odd@example.com").exists()
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ({"role": "admin"}, {"role"}),
        ({"role": "analyst"}, {"role"}),
        ({"is_staff": True}, {"is_staff"}),
        ({"is_superuser": True}, {"is_superuser"}),
        ({"role": "customer", "is_active": False}, {"is_active"}),
    ],
)
def test_signup_refuses_any_attempt_to_grant_more_and_creates_nothing(
    anonymous: APIClient, shop_app: Shop, extra: dict[str, Any], refused: set[str]
) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = signup(anonymous, email="eve@example.com", password=PASSWORD, **extra)
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["details"]) == refused
    assert not User.objects.filter(email="eve@example.com").exists()
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "12345678901234"}, "password"),
        ({"email": "a@example.com", "password": "password123"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"password": PASSWORD}, "email"),
    ],
)
def test_signup_refuses_weak_passwords_and_bad_emails(
    anonymous: APIClient, body: dict[str, str], field: str
) -> None:
    response = anonymous.post("/api/v1/auth/signup", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert User.objects.count() == 0


def test_signup_refuses_an_email_already_taken_in_any_case(
    anonymous: APIClient, shop_app: Shop
) -> None:
    assert signup(anonymous, email="dup@example.com", password=PASSWORD).status_code == 201
    again = signup(anonymous, email="DUP@example.com", password=PASSWORD)
    assert again.status_code == 400
    assert list(again.json()["error"]["details"]) == ["email"]


def test_token_refresh_logout_round_trip(anonymous: APIClient, shop_app: Shop) -> None:
    # given
    signup(anonymous, email="rita@example.com", password=PASSWORD)
    # when: log in with the email in another case
    tokens = anonymous.post(
        "/api/v1/auth/token", {"email": "RITA@example.com", "password": PASSWORD}, format="json"
    ).json()
    rotated = anonymous.post(
        "/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    reused = anonymous.post(
        "/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    # then: refresh rotates and the old refresh token is blacklisted
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert reused.status_code == 401
    # when: log out with the new refresh token
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated.json()['access']}")
    me = anonymous.get("/api/v1/auth/me")
    out = anonymous.post(
        "/api/v1/auth/logout", {"refresh": rotated.json()["refresh"]}, format="json"
    )
    after = anonymous.post(
        "/api/v1/auth/token/refresh", {"refresh": rotated.json()["refresh"]}, format="json"
    )
    # then
    assert me.json()["email"] == "rita@example.com"
    assert out.status_code == 205
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_not_valid"


def test_wrong_password_is_401(anonymous: APIClient, shop_app: Shop) -> None:
    signup(anonymous, email="wes@example.com", password=PASSWORD)
    response = anonymous.post(
        "/api/v1/auth/token", {"email": "wes@example.com", "password": "nope" * 4}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_logout_refuses_another_users_refresh_token(shop_app: Shop) -> None:
    alice, bob = make_actor(shop_app, "customer"), make_actor(shop_app, "customer")
    response = alice.client.post("/api/v1/auth/logout", {"refresh": bob.refresh}, format="json")
    assert response.status_code == 400
    assert (
        bob.client.post(
            "/api/v1/auth/token/refresh", {"refresh": bob.refresh}, format="json"
        ).status_code
        == 200
    )


def forged_tokens(actor: Actor) -> dict[str, str]:
    claims = jwt.decode(actor.access, options={"verify_signature": False})
    expired = AccessToken.for_user(actor.user)  # type: ignore[arg-type]
    expired.set_exp(lifetime=-timedelta(seconds=1))
    header, _, signature = actor.access.split(".")
    return {
        "tampered": f"{header}.{jwt.utils.base64url_encode(b'{}').decode()}.{signature}",
        "expired": str(expired),
        "alg-none": jwt.encode(claims, key="", algorithm="none"),
        "wrong-key": jwt.encode(
            claims, key="not-the-signing-key-at-all-0123456789", algorithm="HS256"
        ),
        "refresh-as-access": actor.refresh,
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize(
    "kind", ["tampered", "expired", "alg-none", "wrong-key", "refresh-as-access", "garbage"]
)
def test_every_bad_token_is_a_401_in_the_envelope(shop_app: Shop, kind: str) -> None:
    # given
    actor = make_actor(shop_app, "customer")
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged_tokens(actor)[kind]}")
    # when
    response = client.get("/api/v1/auth/me")
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"token_not_valid", "authentication_failed"}
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


def test_access_tokens_live_at_most_15_minutes_with_a_pinned_algorithm() -> None:
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=15)
    assert settings.SIMPLE_JWT["ALGORITHM"] == "HS256"
    assert jwt.get_unverified_header(str(RefreshToken().access_token))["alg"] == "HS256"


def test_a_deactivated_user_can_neither_call_nor_log_in_nor_refresh(shop_app: Shop) -> None:
    # given
    admin, victim = make_actor(shop_app, "admin"), make_actor(shop_app, "customer")
    assert victim.user is not None
    # when
    response = admin.client.post(f"/api/v1/users/{victim.user.id}/deactivate")
    # then
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert victim.client.get("/api/v1/auth/me").status_code == 401
    login = victim.client.post(
        "/api/v1/auth/token", {"email": victim.user.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 401
    refresh = APIClient(SERVER_NAME="localhost").post(
        "/api/v1/auth/token/refresh", {"refresh": victim.refresh}, format="json"
    )
    assert refresh.status_code == 401
    assert [type(e).__name__ for e in shop_app.events.get(victim.user.id)] == [
        "Created",
        "Deactivated",
    ]


def test_admin_changes_a_role_and_the_change_is_an_event_with_actor_and_request_id(
    shop_app: Shop,
) -> None:
    # given
    admin, user = make_actor(shop_app, "admin"), make_actor(shop_app, "customer")
    assert admin.user is not None
    assert user.user is not None
    # when
    response = admin.client.post(
        f"/api/v1/users/{user.user.id}/role",
        {"role": "analyst"},
        format="json",
        headers={"X-Request-ID": "role-change-1"},
    )
    # then
    assert (response.status_code, response.json()["role"]) == (200, "analyst")
    assert User.objects.get(id=user.user.id).role == "analyst"
    changed = list(shop_app.events.get(user.user.id))[-1]
    assert (type(changed).__name__, changed.role, changed.previous) == (
        "RoleChanged",
        "analyst",
        "customer",
    )
    assert changed.metadata["actor_id"] == str(admin.user.id)
    assert changed.metadata["request_id"] == "role-change-1"


def test_role_change_refuses_an_unknown_role_or_user(shop_app: Shop) -> None:
    admin, user = make_actor(shop_app, "admin"), make_actor(shop_app, "customer")
    assert user.user is not None
    bad_role = admin.client.post(
        f"/api/v1/users/{user.user.id}/role", {"role": "root"}, format="json"
    )
    unknown = admin.client.post(
        "/api/v1/users/00000000-0000-0000-0000-000000000000/role", {"role": "seller"}, format="json"
    )
    assert (bad_role.status_code, list(bad_role.json()["error"]["details"])) == (400, ["role"])
    assert unknown.status_code == 404
    assert User.objects.get(id=user.user.id).role == "customer"


def signed_access_token(user_id: Any) -> str:
    """A correctly signed access token whose user id claim is `user_id`."""
    token = AccessToken()
    token["user_id"] = user_id
    return str(token)


@pytest.mark.parametrize("user_id", ["not-a-uuid", "1 OR 1=1", 12345, {"id": 1}, ["x"], None])
@pytest.mark.parametrize("urls", ["infra.urls.write_api", "infra.urls.read_api"])
def test_a_signed_token_whose_user_id_is_not_a_uuid_is_a_401(
    user_id: Any, urls: str, settings: Any
) -> None:
    # given
    settings.ROOT_URLCONF = urls
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_access_token(user_id)}")
    # when
    response = client.get("/api/v1/auth/me" if urls.endswith("write_api") else "/api/v1/cart")
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_signed_token_of_a_user_who_does_not_exist_is_a_401() -> None:
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_access_token(str(uuid.uuid4()))}")
    response = client.get("/api/v1/auth/me")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "user_not_found")


def test_the_refresh_token_of_a_user_who_no_longer_exists_is_a_401(
    anonymous: APIClient, shop_app: Shop
) -> None:
    # given
    gone = make_actor(shop_app, "customer")
    assert gone.user is not None
    User.objects.filter(id=gone.user.id).delete()
    # when
    response = anonymous.post(
        "/api/v1/auth/token/refresh", {"refresh": gone.refresh}, format="json"
    )
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"
    assert not User.objects.filter(id=gone.user.id).exists()


@pytest.mark.parametrize("user_id", ["not-a-uuid", 12345])
def test_a_signed_refresh_token_whose_user_id_is_not_a_uuid_is_a_401(
    anonymous: APIClient, user_id: Any
) -> None:
    # given
    refresh = RefreshToken()
    refresh["user_id"] = user_id
    # when
    response = anonymous.post(
        "/api/v1/auth/token/refresh", {"refresh": str(refresh)}, format="json"
    )
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_a_sign_up_whose_email_was_taken_meanwhile_is_refused_like_any_duplicate(
    shop_app: Shop,
) -> None:
    # given: the email was registered after the request's own check (the race's loser)
    services.sign_up(
        shop_app,
        email="race@example.com",
        password=PASSWORD,
        role="customer",
        context=CommandContext(),
    )
    head = shop_app.recorder.max_notification_id()
    # when
    with pytest.raises(ValidationFailed) as refused:
        services.sign_up(
            shop_app,
            email="race@example.com",
            password=PASSWORD,
            role="seller",
            context=CommandContext(),
        )
    # then
    assert refused.value.details == {"email": ["An account with this email already exists."]}
    assert User.objects.get(email="race@example.com").role == "customer"
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_sign_ups_with_one_email_make_one_account_and_nine_400s(
    shop_app: Shop,
) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    start = threading.Barrier(10)

    def sign_up(_: int) -> Any:
        try:
            start.wait()
            return signup(
                APIClient(SERVER_NAME="localhost"), email="same@example.com", password=PASSWORD
            )
        finally:
            db.connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(sign_up, range(10)))
    # then
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 9
    refusals = [r.json()["error"] for r in responses if r.status_code == 400]
    assert {(e["code"], tuple(e["details"])) for e in refusals} == {
        ("validation_error", ("email",))
    }
    assert User.objects.filter(email="same@example.com").count() == 1
    assert shop_app.recorder.max_notification_id() == (head or 0) + 1
