import base64
import json
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from read_api.cursor import Cursor, decode_cursor, reverse_sort
from read_api.search import ProductQuery, sort

BY_CREATED = sort(ProductQuery(ordering="-created"))  # created_at, id
BY_RATING = sort(ProductQuery(ordering="-rating"))  # rating_average, rating_count, id
BY_RELEVANCE = sort(ProductQuery(text="tea"))  # _score, created_at, id


def raw_token(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("after", "order"),
    [
        ([1767312000000, "3f2c-id"], BY_CREATED),
        (["-Infinity", 0, "3f2c-id"], BY_RATING),
        ([4.5, 2, "3f2c-id"], BY_RATING),
        ([0.29834437, 1767225600000, "3f2c-id"], BY_RELEVANCE),
    ],
)
def test_a_cursor_the_index_gave_survives_the_round_trip(after: list[Any], order: Any) -> None:
    cursor = Cursor(after, backwards=True)
    assert decode_cursor(cursor.encode(), order) == cursor


@pytest.mark.parametrize(
    "token",
    [
        "",
        "%%%",
        "bm90IGpzb24",
        Cursor([{"x": 1}, "id"]).encode(),
        raw_token([1, 2]),
        raw_token({"a": [1, "id"]}),
        raw_token({"a": [1, "id"], "b": "no"}),
        raw_token({"a": "[1]", "b": False}),
        Cursor(["not-a-date", "id"]).encode(),
        Cursor([1767312000000]).encode(),
        Cursor([1767312000000, "id", 3]).encode(),
        Cursor([1767312000000, 7]).encode(),
        Cursor([None, "id"]).encode(),
        Cursor([True, "id"]).encode(),
        Cursor([10**30, "id"]).encode(),
        raw_token({"a": [float("nan"), "id"], "b": False}),
        raw_token({"a": [1e308 * 10, "id"], "b": False}),
        Cursor([1, "x" * 201]).encode(),
        base64.urlsafe_b64encode(b"[" * 1400).decode(),
    ],
)
def test_a_forged_or_broken_cursor_is_a_validation_error(token: str) -> None:
    with pytest.raises(ValidationError) as refused:
        decode_cursor(token, BY_CREATED)
    assert refused.value.detail == {"cursor": ["Not a cursor this API gave out."]}


def test_a_cursor_of_another_ordering_is_a_validation_error() -> None:
    # given: a cursor from a page ordered by rating
    token = Cursor([4.5, 2, "id"]).encode()
    # when / then: it is sent with the newest-first ordering
    with pytest.raises(ValidationError):
        decode_cursor(token, BY_CREATED)


def test_reverse_sort_reads_the_same_order_backwards() -> None:
    order = ["_score", {"price": "asc"}, {"rating_average": {"order": "desc", "missing": "_last"}}]
    assert reverse_sort(order) == [
        {"_score": "asc"},
        {"price": "desc"},
        {"rating_average": {"order": "asc", "missing": "_first"}},
    ]
