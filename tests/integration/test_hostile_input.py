"""Hostile requests get a clean answer in the envelope: 413, 400, 404, never a 500 or HTML.

Clients here check CSRF as a browser-facing server does (Django's test client skips it
unless asked), since that is how an unknown path once became an HTML 403 page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.support.actors import PASSWORD, Actor
from write_api.accounts.models import User
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

JSON = "application/json"
TOO_LARGE = json.dumps({"email": "big@example.com", "password": "x" * 2_700_000})
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def strict_client() -> Client:
    return Client(SERVER_NAME="localhost", enforce_csrf_checks=True)


def error_of(response: Any) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.status_code, response.json()["error"]["code"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/auth/signup"])
def test_a_body_over_the_upload_limit_is_a_413_even_anonymously(shop_app: Shop, path: str) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = strict_client().post(path, TOO_LARGE, content_type=JSON)
    # then
    assert error_of(response) == (413, "payload_too_large")
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]
    assert User.objects.count() == 0
    assert shop_app.recorder.max_notification_id() == head


def test_an_oversized_webhook_is_a_413_before_its_signature_is_read(shop_app: Shop) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = strict_client().post("/api/v1/payments/webhook", TOO_LARGE, content_type=JSON)
    # then
    assert error_of(response) == (413, "payload_too_large")
    assert shop_app.recorder.max_notification_id() == head


def test_an_oversized_command_of_a_logged_in_seller_is_a_413(seller: Actor, shop_app: Shop) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    body = json.dumps({"name": "Big", "description": "d" * 2_700_000, "price": "1.00", "stock": 1})
    # when
    response = seller.client.post("/api/v1/products", body, content_type=JSON)
    # then
    assert error_of(response) == (413, "payload_too_large")
    assert shop_app.recorder.max_notification_id() == head


def admin_client_with_csrf_cookie() -> Client:
    client = strict_client()
    assert client.get("/admin/login/").status_code == 200
    assert "csrftoken" in client.cookies
    return client


def test_an_oversized_form_to_the_admin_is_a_413_before_the_csrf_check(shop_app: Shop) -> None:
    # given: the CSRF cookie any visitor of the log-in page gets
    client = admin_client_with_csrf_cookie()
    # when: CsrfViewMiddleware reads the form for its token, before any view runs
    response = client.post(
        "/admin/login/", {"username": "root@example.com", "password": "x" * 2_700_000}
    )
    # then
    assert error_of(response) == (413, "payload_too_large")


def test_a_form_with_too_many_fields_to_the_admin_is_a_413(shop_app: Shop) -> None:
    client = admin_client_with_csrf_cookie()
    response = client.post("/admin/login/", {f"f{i}": "1" for i in range(1_200)})
    assert error_of(response) == (413, "payload_too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x"])
def test_an_oversized_body_of_a_type_the_api_does_not_take_is_refused_cleanly(
    shop_app: Shop, content_type: str
) -> None:
    response = strict_client().post("/api/v1/auth/token", TOO_LARGE, content_type=content_type)
    assert error_of(response) in {(413, "payload_too_large"), (415, "unsupported_media_type")}


@pytest.mark.parametrize("depth", [33, 5_000, 50_000])
@pytest.mark.parametrize("path", ["/api/v1/auth/signup", "/api/v1/auth/token"])
def test_json_nested_too_deep_is_a_400(shop_app: Shop, path: str, depth: int) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = strict_client().post(path, nested(depth), content_type=JSON)
    # then
    assert error_of(response) == (400, "validation_error")
    assert response.json()["error"]["details"] == {
        "non_field_errors": ["JSON nested deeper than 32 levels."]
    }
    assert shop_app.recorder.max_notification_id() == head


def test_a_deep_body_of_a_logged_in_seller_is_a_400_and_stores_nothing(
    seller: Actor, shop_app: Shop
) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    body = '{"name": "Deep", "price": "1.00", "stock": 1, "description": ' + nested(5_000) + "}"
    # when
    response = seller.client.post("/api/v1/products", body, content_type=JSON)
    # then
    assert error_of(response) == (400, "validation_error")
    assert shop_app.recorder.max_notification_id() == head


def test_brackets_inside_strings_do_not_count_as_nesting(shop_app: Shop) -> None:
    # when: a password made of brackets is just text
    response = strict_client().post(
        "/api/v1/auth/signup",
        json.dumps({"email": "brackets@example.com", "password": "[[[[{{{{" * 10}),
        content_type=JSON,
    )
    # then
    assert response.status_code == 201, response.content
    assert User.objects.get(email="brackets@example.com").check_password("[[[[{{{{" * 10)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/no/such/thing", "/api/v1/no-such-thing", "/api/v9/products"])
def test_any_method_on_an_unknown_write_api_path_is_a_404_envelope(method: str, path: str) -> None:
    response = strict_client().generic(method, path, '{"broken": ', content_type=JSON)
    assert error_of(response) == (404, "not_found")


@pytest.mark.urls("infra.urls.read_api")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/no/such/thing", "/api/v1/no-such-thing", "/admin/"])
def test_any_method_on_an_unknown_read_api_path_is_a_404_envelope(method: str, path: str) -> None:
    response = strict_client().generic(method, path, '{"broken": ', content_type=JSON)
    assert error_of(response) == (404, "not_found")


@pytest.mark.urls("infra.urls.read_api")
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_broken_json_to_a_read_api_query_is_a_405_envelope(method: str) -> None:
    response = strict_client().generic(method, "/api/v1/products", "{bad", content_type=JSON)
    assert error_of(response) == (405, "method_not_allowed")


def test_the_admin_still_checks_csrf_and_refuses_in_the_envelope(shop_app: Shop) -> None:
    # given: an admin who could log in
    User.objects.create_superuser("root@example.com", PASSWORD)
    # when: a log-in form is posted without the CSRF token
    response = strict_client().post(
        "/admin/login/", {"username": "root@example.com", "password": PASSWORD}
    )
    # then
    assert error_of(response) == (403, "csrf_failed")
    assert "_auth_user_id" not in response.client.session
