"""Page-number pagination for lists served from OpenSearch or PostgreSQL (API.md shape)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# OpenSearch refuses from + size beyond its result window.
MAX_RESULT_WINDOW = 10_000


class PageParams(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["page"] * attrs["page_size"] > MAX_RESULT_WINDOW:
            raise serializers.ValidationError(
                {"page": [f"Only the first {MAX_RESULT_WINDOW} results can be paged through."]}
            )
        return attrs


def paginated(
    request: Request, page: int, page_size: int, count: int, results: list[Any]
) -> dict[str, Any]:
    url = request.build_absolute_uri()
    has_next = page * page_size < count
    previous = None
    if page > 1:
        previous = (
            remove_query_param(url, "page")
            if page == 2
            else replace_query_param(url, "page", page - 1)
        )
    return {
        "count": count,
        "next": replace_query_param(url, "page", page + 1) if has_next else None,
        "previous": previous,
        "results": results,
    }
