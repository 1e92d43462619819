"""Query endpoints of the read API: `<Entity><Query>Api`, read-only."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from infra.clients import opensearch_client
from projections.catalog.search_index import products_alias
from read_api.filters import ProductFilters
from read_api.orders import cart_get, order_get_tracking, order_list_visible, order_summary
from read_api.pagination import PageParams, paginated
from read_api.permissions import IsCustomer, TracksOrders
from read_api.representations import product_from_document
from read_api.selectors import (
    category_list_tree,
    product_get,
    product_search,
    review_body,
    review_list_for_product,
)


class ProductListApi(APIView):
    """Search and page through buyable products."""

    authentication_classes: list[type] = []

    class FilterSerializer(ProductFilters, PageParams):
        pass

    @extend_schema(parameters=[FilterSerializer])
    def get(self, request: Request, version: str) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, size = params.validated_data["page"], params.validated_data["page_size"]
        count, documents = product_search(
            opensearch_client(),
            products_alias(settings.SHOPSTREAM_NAMESPACE),
            params.product_query(),
            page=page,
            page_size=size,
        )
        results = [product_from_document(d) for d in documents]
        return Response(paginated(request, page, size, count, results))


class ProductDetailApi(APIView):
    """One product as currently projected."""

    authentication_classes: list[type] = []

    def get(self, request: Request, version: str, product_id: UUID) -> Response:
        product = product_get(product_id)
        if product is None:
            raise NotFound(f"Product {product_id} does not exist.")
        return Response(product)


class CategoryTreeApi(APIView):
    """Every category, nested under its parent."""

    authentication_classes: list[type] = []

    def get(self, request: Request, version: str) -> Response:
        return Response(category_list_tree())


class CartApi(APIView):
    """The caller's cart with current names, unit prices, line totals and total."""

    permission_classes = [IsCustomer]

    def get(self, request: Request, version: str) -> Response:
        return Response(cart_get(request.user.id))


class OrderListApi(APIView):
    """Orders the caller may track, newest first, paginated."""

    permission_classes = [TracksOrders]

    @extend_schema(parameters=[PageParams])
    def get(self, request: Request, version: str) -> Response:
        params = PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, size = params.validated_data["page"], params.validated_data["page_size"]
        orders = order_list_visible(request.user)
        results = [order_summary(o) for o in orders[(page - 1) * size : page * size]]
        return Response(paginated(request, page, size, orders.count(), results))


class OrderDetailApi(APIView):
    """One order with its lines and status history; another customer's order is 404."""

    permission_classes = [TracksOrders]

    def get(self, request: Request, version: str, order_id: UUID) -> Response:
        order = order_get_tracking(request.user, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.")
        return Response(order)


class ProductReviewListApi(APIView):
    """A product's reviews, newest first, paginated."""

    authentication_classes: list[type] = []

    @extend_schema(parameters=[PageParams])
    def get(self, request: Request, version: str, product_id: UUID) -> Response:
        params = PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, size = params.validated_data["page"], params.validated_data["page_size"]
        if product_get(product_id) is None:
            raise NotFound(f"Product {product_id} does not exist.")
        reviews = review_list_for_product(product_id)
        results = [review_body(r) for r in reviews[(page - 1) * size : page * size]]
        return Response(paginated(request, page, size, reviews.count(), results))
