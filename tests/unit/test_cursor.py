import pytest
from rest_framework.exceptions import ValidationError

from read_api.cursor import Cursor, decode_cursor, reverse_sort


def test_a_cursor_survives_the_round_trip() -> None:
    cursor = Cursor([1.5, "2026-01-01T00:00:00Z", "id-1"], backwards=True)
    assert decode_cursor(cursor.encode()) == cursor


@pytest.mark.parametrize("token", ["", "%%%", "bm90IGpzb24", Cursor([{"x": 1}]).encode()])
def test_a_forged_or_broken_cursor_is_a_validation_error(token: str) -> None:
    with pytest.raises(ValidationError):
        decode_cursor(token)


def test_reverse_sort_reads_the_same_order_backwards() -> None:
    sort = ["_score", {"price": "asc"}, {"rating_average": {"order": "desc", "missing": "_last"}}]
    assert reverse_sort(sort) == [
        {"_score": "asc"},
        {"price": "desc"},
        {"rating_average": {"order": "asc", "missing": "_first"}},
    ]
