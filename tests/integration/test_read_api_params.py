"""Bad query strings on the read API are 400s in the envelope, never 500s or OpenSearch errors."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db,
    pytest.mark.urls("infra.urls.read_api"),
]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "cheap"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "10", "max_price": "5"}, "min_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"seller": "nobody"}, "seller"),
        ({"category": "3"}, "category"),
        ({"min_rating": "6"}, "min_rating"),
        ({"ordering": "name"}, "ordering"),
        ({"page_size": "101"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"page": "200", "page_size": "100"}, "page"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_bad_search_parameters_are_400(params: dict[str, str], field: str) -> None:
    response = Client(SERVER_NAME="localhost").get("/api/v1/products", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == [field]


def test_query_syntax_in_search_text_is_just_text() -> None:
    response = Client(SERVER_NAME="localhost").get(
        "/api/v1/products", {"search": 'a" OR (b:* AND [', "ordering": "-rating"}
    )
    assert response.status_code == 200
    assert response.json()["count"] >= 0


def cursor_token(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": cursor_token({"a": ["x", "y"], "b": False})},
        {"cursor": cursor_token({"a": [1], "b": False})},
        {"cursor": cursor_token({"a": [1, 2, 3, 4], "b": False})},
        {"cursor": cursor_token({"a": [None, "id"], "b": False})},
        {"cursor": cursor_token({"a": [10**30, "id"], "b": False})},
        {"cursor": cursor_token({"a": [1.5, 2, "id"], "b": False}), "ordering": "-created"},
        {"cursor": cursor_token({"a": [1, "id"], "b": True}), "ordering": "-rating"},
        {"cursor": base64.urlsafe_b64encode(b"[" * 1400).decode()},
        {"cursor": "not a cursor"},
    ],
)
def test_a_crafted_search_cursor_is_a_400_not_a_503(params: dict[str, str]) -> None:
    # when
    response = Client(SERVER_NAME="localhost").get("/api/v2/products/search", params)
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]) == (
        "validation_error",
        {"cursor": ["Not a cursor this API gave out."]},
    )
