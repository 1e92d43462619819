"""v2 product time travel: a product as of a time, and its history of changes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from read_api.cursor import NOT_A_CURSOR, Cursor, decode_cursor
from read_api.history_views import AsOfSerializer
from read_api.openapi import PRODUCT_HISTORY_PAGE
from read_api.pagination import PageParams, paginated
from read_api.permissions import ReadsProductHistory
from read_api.product_history import (
    ProductPage,
    product_as_of,
    product_history_page,
    product_history_slice,
    product_seller,
    without_customer_ids,
)

# History cursors hold the edge entry's version (read_api.cursor checks its shape).
VERSION_SORT = [{"version": "asc"}]


def product_detail_as_of(request: Request, version: str, product_id: UUID) -> Response:
    """v2: the product as it was at `as_of`, rebuilt from its events (anyone; never cached)."""
    if version != "v2":
        raise NotFound("?as_of is a v2 feature.")
    params = AsOfSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    product = product_as_of(product_id, params.validated_data["as_of"])
    if product is None:
        raise NotFound(f"Product {product_id} did not exist at that time.")
    return Response(product)


class ProductHistoryApi(APIView):
    """v2: what each event of a product changed, when and by whom, in version order (its
    seller, admins and analysts)."""

    permission_classes = [ReadsProductHistory]

    class ParamsSerializer(PageParams):
        cursor = serializers.RegexField(
            r"^[A-Za-z0-9_-]+$",
            required=False,
            max_length=200,
            default=None,
            error_messages={"invalid": NOT_A_CURSOR},
        )

    @extend_schema(versions=["v1"], exclude=True)
    @extend_schema(parameters=[ParamsSerializer], responses={200: PRODUCT_HISTORY_PAGE})
    def get(self, request: Request, version: str, product_id: UUID) -> Response:
        if version != "v2":
            raise NotFound("Product history is a v2 endpoint.")
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        role, seller = getattr(request.user, "role", None), product_seller(product_id)
        if seller is None:
            raise NotFound(f"Product {product_id} does not exist.")
        if role == "seller" and seller != str(request.user.id):
            raise PermissionDenied("Only the product's seller may read its history.")
        shown = shown_to_admin if role == "admin" else without_customer_ids
        if data["cursor"] is None:
            page, size = data["page"], data["page_size"]
            count, entries = product_history_page(product_id, page, size)
            return Response(paginated(request, page, size, count, shown(entries)))
        sliced = history_slice(product_id, data["cursor"], data["page_size"])
        return Response(cursor_links(request, replace(sliced, entries=shown(sliced.entries))))


def shown_to_admin(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return entries


def history_slice(product_id: UUID, token: str, size: int) -> ProductPage:
    """The entries a cursor of a `next` (after its version) or `previous` link points at."""
    cursor = decode_cursor(token, VERSION_SORT)
    edge = cursor.after[0]
    if cursor.backwards:
        return product_history_slice(product_id, before=edge, size=size)
    return product_history_slice(product_id, after=edge, size=size)


def cursor_links(request: Request, page: ProductPage) -> dict[str, Any]:
    """The v2 cursor shape: links to the neighbouring slices, and the entries."""
    base = request.build_absolute_uri()
    entries = page.entries

    def link(version: int, backwards: bool) -> str:
        return replace_query_param(base, "cursor", Cursor([version], backwards).encode())

    return {
        "next": link(entries[-1]["version"], False) if entries and page.more_after else None,
        "previous": link(entries[0]["version"], True) if entries and page.more_before else None,
        "results": entries,
    }
