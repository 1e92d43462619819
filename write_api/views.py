"""Command endpoints: shape-check the input, call one application command, answer."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from infra.event_store import shop
from write_api.context import command_context
from write_api.domain.product import DESCRIPTION_MAX
from write_api.fields import MoneyField, StrictCharField, StrictIntegerField


class ProductCreateApi(APIView):
    """Create a product: appends ProductCreated and returns its id and version."""

    class InputSerializer(serializers.Serializer):
        name = StrictCharField(allow_blank=True, trim_whitespace=False)
        description = StrictCharField(
            allow_blank=True, trim_whitespace=False, max_length=DESCRIPTION_MAX
        )
        price = MoneyField()
        category_id = serializers.UUIDField(required=False, allow_null=True, default=None)
        stock = StrictIntegerField()

    @extend_schema(
        request=InputSerializer,
        responses={201: inline_serializer("ProductCreated", {"id": serializers.UUIDField()})},
    )
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        context = command_context(request)
        saved = shop().create_product(
            **body.validated_data,
            seller_id=UUID(context.actor_id) if context.actor_id else None,
            context=context,
        )
        product = shop().get_product(saved.id)
        return Response(
            {
                "id": str(saved.id),
                "version": saved.version,
                "name": product.name,
                "description": product.description,
                "price": str(product.price),
                "category_id": str(product.category_id) if product.category_id else None,
                "stock": product.stock,
                "seller_id": str(product.seller_id) if product.seller_id else None,
            },
            status=status.HTTP_201_CREATED,
        )
