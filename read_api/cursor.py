"""Opaque cursors over OpenSearch `search_after`: stable while products change.

A cursor holds the sort values of the edge hit and the direction to read in; the
sort always ends with the document id, so no two hits tie and none is skipped
or repeated when products are added or change between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

# Sort keys whose values are text; every other key of the index sorts by a number.
TEXT_SORT_KEYS = frozenset({"id"})
# What OpenSearch gives as the sort value of a missing number (`"missing": "_last"`).
INFINITIES = frozenset({"Infinity", "-Infinity"})
MAX_TEXT_VALUE = 200
_LONG = 2**63

NOT_A_CURSOR = "Not a cursor this API gave out."


@dataclass(frozen=True)
class Cursor:
    after: list[Any]
    backwards: bool = False

    def encode(self) -> str:
        raw = json.dumps({"a": self.after, "b": self.backwards}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: list[Any]) -> Cursor:
    """The cursor in `token`, if it is one this API could have given out for `sort`.

    Its values must fit the sort one for one (text for the id tie-break, numbers for
    every other key), so a forged cursor is a 400 here and never reaches the index.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after, backwards = data["a"], data["b"]
        if not isinstance(after, list) or not isinstance(backwards, bool):
            raise TypeError
        if len(after) != len(sort) or not all(map(_fits, after, sort)):
            raise TypeError
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise serializers.ValidationError({"cursor": [NOT_A_CURSOR]}) from None
    return Cursor(after, backwards)


def _fits(value: Any, clause: Any) -> bool:
    key = clause if isinstance(clause, str) else next(iter(clause))
    if key in TEXT_SORT_KEYS:
        return isinstance(value, str) and len(value) <= MAX_TEXT_VALUE
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_LONG <= value < _LONG
    if isinstance(value, float):
        return math.isfinite(value)
    return value in INFINITIES


def reverse_sort(sort: list[Any]) -> list[Any]:
    """The same order, read backwards (for a `previous` page)."""
    flipped: list[Any] = []
    for clause in sort:
        if clause == "_score":
            flipped.append({"_score": "asc"})
            continue
        ((field, spec),) = clause.items()
        if isinstance(spec, str):
            flipped.append({field: "desc" if spec == "asc" else "asc"})
        else:
            order = "desc" if spec.get("order", "asc") == "asc" else "asc"
            missing = "_first" if spec.get("missing") == "_last" else "_last"
            flipped.append({field: {**spec, "order": order, "missing": missing}})
    return flipped
