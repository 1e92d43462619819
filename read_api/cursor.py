"""Opaque cursors over OpenSearch `search_after`: stable while products change.

A cursor holds the sort values of the edge hit and the direction to read in; the
sort always ends with the document id, so no two hits tie and none is skipped
or repeated when products are added or change between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers


@dataclass(frozen=True)
class Cursor:
    after: list[Any]
    backwards: bool = False

    def encode(self) -> str:
        raw = json.dumps({"a": self.after, "b": self.backwards}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after, backwards = data["a"], data["b"]
        if not isinstance(after, list) or not isinstance(backwards, bool):
            raise TypeError
        if not all(isinstance(v, str | int | float) or v is None for v in after):
            raise TypeError
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise serializers.ValidationError({"cursor": ["Not a cursor this API gave out."]}) from None
    return Cursor(after, backwards)


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
