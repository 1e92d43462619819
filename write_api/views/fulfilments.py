"""Fulfilment commands: a seller ships its own lines of an order and marks them delivered."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import errors
from write_api.application import shop
from write_api.context import command_context
from write_api.domain.limits import CARRIER_MAX, CART_LINES_MAX, TRACKING_NUMBER_MAX
from write_api.fields import StrictCharField
from write_api.fulfilling import FulfilmentSaved
from write_api.permissions import FulfilsOrders, acting_seller
from write_api.serializers import StrictSerializer


class FulfilmentSerializer(serializers.Serializer):
    """A fulfilment as a command saved it (mirrors `fulfilment_body`)."""

    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    product_ids = serializers.ListField(child=serializers.UUIDField())
    status = serializers.CharField(help_text="The fulfilment's: shipped, delivered.")
    order_status = serializers.CharField(help_text="The order's, which the fulfilment may move.")
    version = serializers.IntegerField(help_text="The order's new version.")


def fulfilment_body(saved: FulfilmentSaved) -> dict[str, Any]:
    return {
        "id": str(saved.fulfilment_id),
        "order_id": str(saved.id),
        "product_ids": [str(pid) for pid in saved.product_ids],
        "status": saved.status,
        "order_status": saved.order_status,
        "version": saved.version,
    }


class OrderFulfilmentCreateApi(APIView):
    """A seller ships some of its own lines of a paid order (an admin, any lines)."""

    permission_classes = [FulfilsOrders]

    class InputSerializer(StrictSerializer):
        product_ids = serializers.ListField(
            child=serializers.UUIDField(), allow_empty=False, max_length=CART_LINES_MAX
        )
        carrier = StrictCharField(max_length=CARRIER_MAX, required=False, allow_null=True)
        tracking_number = StrictCharField(
            max_length=TRACKING_NUMBER_MAX, required=False, allow_null=True
        )

    @extend_schema(
        request=InputSerializer, responses={201: FulfilmentSerializer, **errors(404, 409)}
    )
    def post(self, request: Request, version: str, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shipped = shop().fulfil_order(
            order_id,
            product_ids=body.validated_data["product_ids"],
            carrier=body.validated_data.get("carrier"),
            tracking_number=body.validated_data.get("tracking_number"),
            seller_id=acting_seller(request),
            context=command_context(request),
        )
        return Response(fulfilment_body(shipped), status=status.HTTP_201_CREATED)


class OrderFulfilmentDeliverApi(APIView):
    """The seller who shipped a fulfilment (or an admin) marks it delivered."""

    permission_classes = [FulfilsOrders]

    @extend_schema(request=None, responses={200: FulfilmentSerializer, **errors(404, 409)})
    def post(self, request: Request, version: str, order_id: UUID, fulfilment_id: UUID) -> Response:
        delivered = shop().deliver_fulfilment(
            order_id,
            fulfilment_id,
            seller_id=acting_seller(request),
            context=command_context(request),
        )
        return Response(fulfilment_body(delivered))
