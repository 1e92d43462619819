"""Product commands: create, change, adjust stock, discontinue."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import errors
from write_api.accounts.services import product_seller
from write_api.application import UNCHANGED, shop
from write_api.context import acting_user, command_context
from write_api.domain.limits import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    PRODUCT_NAME_MAX,
    RATING_MAX,
    RATING_MIN,
    STOCK_MAX,
)
from write_api.domain.product import Product
from write_api.domain.review import reviewer_label
from write_api.fields import PriceField, StrictCharField, StrictIntegerField
from write_api.permissions import IsCustomer, IsSellerOrAdmin, OwnsProductOrIsAdmin
from write_api.serializers import NonEmptyPatchSerializer, StrictSerializer
from write_api.views.openapi import (
    ProductSerializer,
    ReviewSerializer,
    StockLevelSerializer,
)


def product_body(product: Product) -> dict[str, Any]:
    return {
        "id": str(product.id),
        "version": product.version,
        "name": product.name,
        "description": product.description,
        "price": str(product.price),
        "category_id": str(product.category_id) if product.category_id else None,
        "stock": product.stock,
        "reserved": product.reserved,
        "seller_id": str(product.seller_id) if product.seller_id else None,
        "discontinued": product.discontinued,
    }


class ProductCreateApi(APIView):
    """Create a product: appends ProductCreated and returns its id and version."""

    permission_classes = [IsSellerOrAdmin]

    class InputSerializer(StrictSerializer):
        name = StrictCharField(max_length=PRODUCT_NAME_MAX)
        description = StrictCharField(
            allow_blank=True, trim_whitespace=False, max_length=DESCRIPTION_MAX, multiline=True
        )
        price = PriceField()
        category_id = serializers.UUIDField(required=False, allow_null=True, default=None)
        stock = StrictIntegerField(min_value=0, max_value=STOCK_MAX)
        seller_id = serializers.UUIDField(
            required=False, help_text="Admins only: create on behalf of this seller."
        )

    @extend_schema(request=InputSerializer, responses={201: ProductSerializer})
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        seller_id = product_seller(
            actor_id=acting_user(request).id,
            actor_role=acting_user(request).role,
            requested=fields.pop("seller_id", None),
        )
        saved = shop().create_product(
            **fields, seller_id=seller_id, context=command_context(request)
        )
        product = shop().get_product(saved.id)
        return Response(product_body(product), status=status.HTTP_201_CREATED)


class ProductApi(APIView):
    """Change a product's details, price or category (PATCH), or discontinue it (DELETE)."""

    permission_classes = [OwnsProductOrIsAdmin]

    class PatchSerializer(NonEmptyPatchSerializer):
        name = StrictCharField(required=False, max_length=PRODUCT_NAME_MAX)
        description = StrictCharField(
            required=False,
            allow_blank=True,
            trim_whitespace=False,
            max_length=DESCRIPTION_MAX,
            multiline=True,
        )
        price = PriceField(required=False)
        category_id = serializers.UUIDField(required=False, allow_null=True)

    def owned_product(self, request: Request, product_id: UUID) -> Product:
        product = shop().get_product(product_id)
        self.check_object_permissions(request, product)
        return product

    @extend_schema(request=PatchSerializer, responses={200: ProductSerializer, **errors(409)})
    def patch(self, request: Request, version: str, product_id: UUID) -> Response:
        body = self.PatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.owned_product(request, product_id)
        changes = body.validated_data
        shop().change_product(
            product_id,
            name=changes.get("name"),
            description=changes.get("description"),
            price=changes.get("price"),
            category_id=changes.get("category_id", UNCHANGED),
            context=command_context(request),
        )
        return Response(product_body(shop().get_product(product_id)))

    @extend_schema(request=None, responses={204: None, **errors(409)})
    def delete(self, request: Request, version: str, product_id: UUID) -> Response:
        self.owned_product(request, product_id)
        shop().discontinue_product(product_id, context=command_context(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductStockApi(APIView):
    """Adjust stock on hand by a delta; it never falls below what is reserved."""

    permission_classes = [OwnsProductOrIsAdmin]

    class InputSerializer(StrictSerializer):
        delta = StrictIntegerField(min_value=-STOCK_MAX, max_value=STOCK_MAX)

    @extend_schema(request=InputSerializer, responses={200: StockLevelSerializer, **errors(409)})
    def post(self, request: Request, version: str, product_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.check_object_permissions(request, shop().get_product(product_id))
        level = shop().adjust_stock(
            product_id, delta=body.validated_data["delta"], context=command_context(request)
        )
        return Response(
            {
                "id": str(product_id),
                "stock": level.stock,
                "reserved": level.reserved,
                "version": level.version,
            }
        )


class ProductReviewCreateApi(APIView):
    """A customer who bought the product rates it (1..5) and comments, once."""

    permission_classes = [IsCustomer]

    class InputSerializer(StrictSerializer):
        rating = StrictIntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
        comment = StrictCharField(
            max_length=COMMENT_MAX, allow_blank=True, default="", multiline=True
        )

    @extend_schema(request=InputSerializer, responses={201: ReviewSerializer, **errors(409)})
    def post(self, request: Request, version: str, product_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = shop().write_review(
            customer_id=acting_user(request).id,
            product_id=product_id,
            **body.validated_data,
            reviewer_name=acting_user(request).display_name,
            context=command_context(request),
        )
        return Response(
            {
                "id": str(saved.id),
                "version": saved.version,
                "product_id": str(product_id),
                "reviewer_name": reviewer_label(acting_user(request).display_name),
                **body.validated_data,
            },
            status=status.HTTP_201_CREATED,
        )
