"""Query endpoints of the read API: `<Entity><Query>Api`, read-only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Window
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from adapters.clients import redis_client, search_client
from projections.catalog.search_index import products_alias
from read_api.caching import category_tree, product_detail, search_page
from read_api.consistency import HEADER, requested_min_version, wait_for_version
from read_api.cursor import NOT_A_CURSOR, decode_cursor
from read_api.filters import ProductFilters
from read_api.history_views import order_detail_as_of
from read_api.openapi import (
    AS_OF,
    ETAG,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    ORDER_OR_PAST_ORDER,
    ORDER_PAGE,
    PRODUCT_AS_OF,
    PRODUCT_PAGE,
    REVIEW_PAGE,
    SEARCH_PAGE,
    SUGGESTIONS,
    CartSerializer,
    CategoryNodeSerializer,
    OrderSerializer,
    ProductOrPastProductSerializer,
    ProductSerializer,
)
from read_api.orders import (
    cart_get,
    cart_version,
    order_get_tracking,
    order_list_visible,
    order_summary,
    order_version,
)
from read_api.pagination import PageParams, paginated
from read_api.permissions import IsCustomer, TracksOrders, caller_id
from read_api.product_history_views import product_detail_as_of
from read_api.representations import product_from_document
from read_api.search import sort
from read_api.search_v2 import product_search_page, product_suggestions
from read_api.selectors import (
    product_get,
    product_search,
    product_version,
    review_body,
    review_list_for_product,
)


class ReadApi(APIView):
    """A read view honouring X-Min-Version: it waits (bounded) for the projection, and every
    answer it then gives, an error included, says `X-Consistency: stale` if the wait ran out."""

    stale = False

    def wait_for(self, request: Request, current: Callable[[UUID], int | None]) -> None:
        wanted = requested_min_version(request)
        if wanted is not None:
            self.stale = not wait_for_version(
                redis_client(settings.REDIS_BEST_EFFORT_TIMEOUT_SECONDS),
                settings.SHOPSTREAM_NAMESPACE,
                wanted,
                lambda: current(wanted.aggregate_id),
            )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.stale:
            response["X-Consistency"] = "stale"
        return response


class ProductListApi(ReadApi):
    """Search and page through buyable products."""

    authentication_classes: list[type] = []

    class FilterSerializer(ProductFilters, PageParams):
        pass

    @extend_schema(parameters=[FilterSerializer], responses={200: PRODUCT_PAGE})
    def get(self, request: Request, version: str) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.wait_for(request, product_version)
        page, size = params.validated_data["page"], params.validated_data["page_size"]

        def build() -> dict[str, Any]:
            count, documents = product_search(
                search_client(),
                products_alias(settings.SHOPSTREAM_NAMESPACE),
                params.product_query(),
                page=page,
                page_size=size,
            )
            results = [product_from_document(d) for d in documents]
            return paginated(request, page, size, count, results)

        body = search_page(
            {"v": version, **params.validated_data, "host": request.get_host()}, build
        )
        return Response(body)


class ProductDetailApi(ReadApi):
    """One product as currently projected; cached, with ETag / If-None-Match. v2 `?as_of=`
    rebuilds it from its events instead, past the cache."""

    authentication_classes: list[type] = []

    @extend_schema(
        versions=["v1"],
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: ProductSerializer, 304: NOT_MODIFIED},
    )
    @extend_schema(
        versions=["v2"],
        parameters=[PRODUCT_AS_OF, IF_NONE_MATCH, ETAG],
        responses={200: ProductOrPastProductSerializer, 304: NOT_MODIFIED},
    )
    def get(self, request: Request, version: str, product_id: UUID) -> HttpResponse:
        if "as_of" in request.query_params:
            return product_detail_as_of(request, version, product_id)
        self.wait_for(request, product_version)
        body, tag = product_detail(product_id, fresh=HEADER in request.headers)
        if body is None:
            raise NotFound(f"Product {product_id} does not exist.")
        headers = {"ETag": tag, "Cache-Control": "no-cache"}
        if tag in request.headers.get("If-None-Match", ""):
            return Response(status=304, headers=headers)
        # Rendered when cached: DRF has nothing left to render.
        return HttpResponse(body, content_type="application/json", headers=headers)


class CategoryTreeApi(APIView):
    """Every category, nested under its parent."""

    authentication_classes: list[type] = []

    @extend_schema(responses={200: CategoryNodeSerializer(many=True)})
    def get(self, request: Request, version: str) -> Response:
        return Response(category_tree())


class CartApi(ReadApi):
    """The caller's cart with current names, unit prices, line totals and total."""

    permission_classes = [IsCustomer]

    @extend_schema(responses={200: CartSerializer})
    def get(self, request: Request, version: str) -> Response:
        self.wait_for(request, cart_version)
        return Response(cart_get(caller_id(request)))


class OrderListApi(APIView):
    """Orders the caller may track, newest first, paginated."""

    permission_classes = [TracksOrders]

    @extend_schema(parameters=[PageParams], responses={200: ORDER_PAGE})
    def get(self, request: Request, version: str) -> Response:
        params = PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, size = params.validated_data["page"], params.validated_data["page_size"]
        orders = order_list_visible(request.user)
        results = [order_summary(o) for o in orders[(page - 1) * size : page * size]]
        return Response(paginated(request, page, size, orders.count(), results))


class OrderDetailApi(ReadApi):
    """One order with its lines and status history; another customer's order is 404."""

    permission_classes = [TracksOrders]

    @extend_schema(versions=["v1"], responses={200: OrderSerializer})
    @extend_schema(versions=["v2"], parameters=[AS_OF], responses={200: ORDER_OR_PAST_ORDER})
    def get(self, request: Request, version: str, order_id: UUID) -> Response:
        if "as_of" in request.query_params:
            return order_detail_as_of(request, version, order_id)
        self.wait_for(request, order_version)
        order = order_get_tracking(request.user, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.")
        return Response(order)


class ProductReviewListApi(APIView):
    """A product's reviews, newest first, paginated."""

    authentication_classes: list[type] = []

    @extend_schema(parameters=[PageParams], responses={200: REVIEW_PAGE})
    def get(self, request: Request, version: str, product_id: UUID) -> Response:
        params = PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, size = params.validated_data["page"], params.validated_data["page_size"]
        if product_get(product_id) is None:
            raise NotFound(f"Product {product_id} does not exist.")
        reviews = review_list_for_product(product_id)
        # One statement for the page and its count (a window over every row, taken before
        # the LIMIT): two would see two snapshots, and a review projected in between made
        # the count disagree with the page.
        rows = list(reviews.annotate(total=Window(Count("id")))[(page - 1) * size : page * size])
        count = rows[0].total if rows else reviews.count()
        return Response(paginated(request, page, size, count, [review_body(r) for r in rows]))


class ProductSearchV2Api(ReadApi):
    """v2: typo-tolerant search with the v1 filters, facets and stable cursor pages."""

    authentication_classes: list[type] = []

    class ParamsSerializer(ProductFilters):
        q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
        cursor = serializers.RegexField(
            r"^[A-Za-z0-9_-]+$",
            required=False,
            max_length=2000,
            default=None,
            error_messages={"invalid": NOT_A_CURSOR},
        )
        page_size = serializers.IntegerField(min_value=1, max_value=100, default=20)

    @extend_schema(versions=["v1"], exclude=True)
    @extend_schema(parameters=[ParamsSerializer], responses={200: SEARCH_PAGE})
    def get(self, request: Request, version: str) -> Response:
        if version != "v2":
            raise NotFound("Product search with facets is a v2 endpoint.")
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        query = replace(params.product_query(), text=(data["q"] or data["search"]).strip())
        cursor = decode_cursor(data["cursor"], sort(query)) if data["cursor"] else None
        self.wait_for(request, product_version)
        page = product_search_page(
            search_client(),
            products_alias(settings.SHOPSTREAM_NAMESPACE),
            query,
            cursor,
            data["page_size"],
        )
        base = request.build_absolute_uri()
        return Response(
            {
                "count": page["count"],
                "next": replace_query_param(base, "cursor", page["next"]) if page["next"] else None,
                "previous": (
                    replace_query_param(base, "cursor", page["previous"])
                    if page["previous"]
                    else None
                ),
                "results": [product_from_document(d) for d in page["documents"]],
                "facets": page["facets"],
            },
        )


class ProductSuggestV2Api(APIView):
    """v2: autocomplete product names from a prefix of any word in them."""

    authentication_classes: list[type] = []

    class ParamsSerializer(serializers.Serializer):
        q = serializers.CharField(min_length=1, max_length=100)

    @extend_schema(versions=["v1"], exclude=True)
    @extend_schema(parameters=[ParamsSerializer], responses={200: SUGGESTIONS})
    def get(self, request: Request, version: str) -> Response:
        if version != "v2":
            raise NotFound("Suggestions are a v2 endpoint.")
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        names = product_suggestions(
            search_client(),
            products_alias(settings.SHOPSTREAM_NAMESPACE),
            params.validated_data["q"].strip(),
        )
        return Response({"suggestions": names})
