"""The write API's envelope, request ids and refusal paths, on the real event store."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client
from eventsourcing.persistence import OperationalError as PersistenceOperationalError

from tests.support.actors import Actor
from write_api import application
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

VALID = {"name": "Teapot", "description": "Cast iron", "price": "45.00", "stock": 2}


def post_product(seller: Actor, body: Any, **headers: str) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return seller.client.post(
        "/api/v1/products", data, content_type="application/json", headers=headers
    )


def test_create_product_returns_201_with_id_and_version(seller: Actor, shop_app: Shop) -> None:
    # when
    response = post_product(seller, VALID)
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1
    assert body["seller_id"] == str(seller.user.id)  # type: ignore[union-attr]
    assert (body["name"], body["price"], body["stock"]) == ("Teapot", "45.00", 2)
    assert shop_app.get_product(body["id"]).name == "Teapot"


def test_the_request_id_and_actor_reach_the_response_and_the_stored_event(
    seller: Actor, shop_app: Shop
) -> None:
    # when
    response = post_product(seller, VALID, X_REQUEST_ID="trace-42", X_CORRELATION_ID="flow-7")
    # then
    assert response["X-Request-ID"] == "trace-42"
    [stored] = shop_app.repository.event_store.get(response.json()["id"])
    assert stored.metadata["request_id"] == "trace-42"
    assert stored.metadata["correlation_id"] == "flow-7"
    assert stored.metadata["actor_role"] == "seller"
    assert stored.metadata["actor_id"] == str(seller.user.id)  # type: ignore[union-attr]


def test_an_unsafe_request_id_is_replaced_by_a_generated_one(client: Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 36


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ('{"name": "x",', ["non_field_errors"]),
        ("[1, 2]", ["non_field_errors"]),
        ({}, ["name", "description", "price", "stock"]),
        ({**VALID, "name": 5, "price": "cheap", "stock": "3"}, ["name", "price", "stock"]),
        ({**VALID, "stock": 2.5, "description": None}, ["description", "stock"]),
        ({**VALID, "price": True, "category_id": "not-a-uuid"}, ["price", "category_id"]),
        ({**VALID, "name": " ", "price": "0.001", "stock": -1}, ["name", "price", "stock"]),
        ({**VALID, "is_staff": True, "seller_id": "nope"}, ["is_staff", "seller_id"]),
    ],
)
def test_bad_input_is_a_400_validation_error_and_stores_nothing(
    seller: Actor, shop_app: Shop, body: Any, fields: list[str]
) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = post_product(seller, body)
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert sorted(error["details"]) == sorted(fields)
    assert error["request_id"] == response["X-Request-ID"]
    assert shop_app.recorder.max_notification_id() == head


def test_unknown_paths_and_methods_answer_in_the_envelope(seller: Actor) -> None:
    # when
    missing = seller.client.get("/no/such/thing")
    wrong_method = seller.client.get("/api/v1/products")
    unknown_version = seller.client.post("/api/v9/products", VALID, format="json")
    # then
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )
    assert unknown_version.status_code == 404
    assert unknown_version.json()["error"]["code"] == "not_found"


def test_an_unexpected_failure_is_a_500_envelope_without_a_traceback(
    seller: Actor, shop_app: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    def explode(**_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(application.shop(), "create_product", explode)
    # when
    response = post_product(seller, VALID)
    # then
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in response.content.decode()


def test_each_request_writes_one_access_log_line(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    # when
    with caplog.at_level(logging.INFO, logger="shopstream.access"):
        client.get("/healthz", headers={"X-Request-ID": "log-me"})
    # then
    [line] = [r.msg for r in caplog.records if r.name == "shopstream.access"]
    assert line["event"] == "request"
    assert (line["method"], line["path"], line["status"], line["user_id"]) == (
        "GET",
        "/healthz",
        200,
        None,
    )
    assert line["request_id"] == "log-me"
    assert line["duration_ms"] >= 0


def test_schema_of_each_api_version_and_docs_are_served(client: Client) -> None:
    accept = {"Accept": "application/vnd.oai.openapi+json"}
    v1 = client.get("/api/schema/", headers=accept)
    v2 = client.get("/api/schema/?version=v2", headers=accept)
    docs = client.get("/api/docs/")
    assert "/api/v1/products" in v1.json()["paths"]
    assert "/api/v2/products" in v2.json()["paths"]
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_an_unreachable_event_store_is_a_503_envelope_not_a_500(
    seller: Actor, shop_app: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the event store's database stops answering
    def unreachable(**_: Any) -> None:
        raise PersistenceOperationalError("connection refused")

    monkeypatch.setattr(application.shop(), "create_product", unreachable)
    # when
    response = post_product(seller, VALID)
    # then
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
