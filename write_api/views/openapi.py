"""OpenAPI declarations of the command views: what they answer, and their header parameters.

These serializers are never used to render: each mirrors one `*_body` function or literal
response of the views, and the e2e schemathesis run checks every answer against them.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from adapters.openapi import money
from write_api.domain.account import ROLES
from write_api.payments.webhooks import HEADER as SIGNATURE_HEADER

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Replays the first response for the same body; another body is a 422.",
)
SIGNATURE = OpenApiParameter(
    SIGNATURE_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>",
)


class AccountSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.CharField()
    display_name = serializers.CharField(
        allow_blank=True, help_text="Shown on the user's reviews; empty when none was chosen."
    )
    role = serializers.ChoiceField(choices=ROLES)
    is_active = serializers.BooleanField()


class AccountChangeSerializer(AccountSerializer):
    version = serializers.IntegerField()


class CategorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)
    path = serializers.CharField(help_text="Names from the root, joined by '/'.")
    ancestor_ids = serializers.ListField(child=serializers.UUIDField())
    version = serializers.IntegerField(help_text="Version of the category tree.")


class ProductSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    price = money()
    category_id = serializers.UUIDField(allow_null=True)
    stock = serializers.IntegerField()
    reserved = serializers.IntegerField()
    seller_id = serializers.UUIDField(allow_null=True)
    discontinued = serializers.BooleanField()


class StockLevelSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    stock = serializers.IntegerField()
    reserved = serializers.IntegerField()
    version = serializers.IntegerField()


class ReviewSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    product_id = serializers.UUIDField()
    reviewer_name = serializers.CharField(help_text="The author's display name at the time.")
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(allow_blank=True)


class CartLineSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    quantity = serializers.IntegerField()


class CartSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    items = CartLineSerializer(many=True)


class OrderPlacedSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    total = money()


class OrderStatusSerializer(serializers.Serializer):
    """An order command's outcome: the order's id, its new status and version."""

    order_id = serializers.UUIDField()
    status = serializers.CharField()
    version = serializers.IntegerField()


class GatewayEventDataSerializer(serializers.Serializer):
    reference = serializers.UUIDField(help_text="The order id.")
    charge_id = serializers.CharField()
    refund_id = serializers.CharField(
        required=False, help_text="charge.refunded, charge.refund_failed: the gateway's refund."
    )
    amount = serializers.CharField(
        help_text='The amount charged or refunded, two places ("25.00").'
    )
    currency = serializers.CharField(help_text="ISO 4217, upper case.")
    metadata = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="attempt_id: the payment attempt; refund_id: our refund (refund events).",
    )
    reason = serializers.CharField(required=False, allow_null=True)


class GatewayEventSerializer(serializers.Serializer):
    """The gateway's event, signed in the Shopstream-Signature header."""

    id = serializers.CharField()
    type = serializers.CharField(
        help_text="charge.succeeded, charge.failed, charge.refunded, charge.refund_failed; "
        "others are ignored."
    )
    data = GatewayEventDataSerializer()  # type: ignore[assignment]  # a body field named "data"


class WebhookReceiptSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.CharField(required=False, help_text="applied, ignored, refused: <code>")
    duplicate = serializers.BooleanField(required=False, help_text="A replayed event id.")


class EscalationOpenedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    status = serializers.CharField()
    version = serializers.IntegerField()


class EscalationMessageSerializer(serializers.Serializer):
    """The escalation the message was written on, and its new version."""

    id = serializers.UUIDField()
    version = serializers.IntegerField()


class RefundMadeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    amount = money()
    status = serializers.CharField(help_text="succeeded, or pending until the gateway settles it.")


class EscalationResolvedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    resolution = serializers.CharField(help_text="refund or reject.")
    refund = RefundMadeSerializer(required=False, help_text="Only for a refund.")
    version = serializers.IntegerField()


class RefundSerializer(serializers.Serializer):
    """A refund command's outcome."""

    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    amount = money()
    status = serializers.ChoiceField(choices=["succeeded", "pending"])
    version = serializers.IntegerField(help_text="The order's version after the refund.")
