"""OpenAPI declarations of the query views: what they answer, and their extra parameters.

These serializers are never used to render: each mirrors one builder of a response body
(representations, selectors, orders, history); the e2e schemathesis run checks every
answer against them.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from adapters.openapi import money


def page_of(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """The v1 list shape of API.md: count, links to the neighbouring pages, results."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(allow_null=True, help_text="null until the category is read.")
    path = serializers.CharField(allow_null=True)


class RatingSerializer(serializers.Serializer):
    average = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    count = serializers.IntegerField()


class ProductSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    price = money()
    category = CategoryRefSerializer(allow_null=True)
    seller_id = serializers.UUIDField(allow_null=True)
    stock_available = serializers.IntegerField()
    rating = RatingSerializer()
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class ProductOrPastProductSerializer(ProductSerializer):
    """The product, or with v2 `?as_of=` the product rebuilt from its events up to that time,
    which adds `discontinued` and `as_of`. One schema, not a oneOf: a past product would match
    both of two (it has every field of the current one)."""

    discontinued = serializers.BooleanField(required=False, help_text="with ?as_of= only")
    as_of = serializers.DateTimeField(required=False, help_text="with ?as_of= only")


@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}})
class CategoryChildrenField(serializers.ListField):
    """The subtree: CategoryNode refers to itself."""


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    path = serializers.CharField()
    children = CategoryChildrenField()


class CartItemSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    name = serializers.CharField(allow_null=True, help_text="null if the product is not read yet.")
    quantity = serializers.IntegerField()
    unit_price = money(allow_null=True)
    line_total = money(allow_null=True)


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    total = money()
    version = serializers.IntegerField()


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField()


class OrderSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    total = money(help_text="For a seller, its lines' subtotal.")
    created_at = serializers.DateTimeField()


class OrderLineSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    name = serializers.CharField(allow_blank=True)
    unit_price = money()
    quantity = serializers.IntegerField()
    line_total = money()
    seller_id = serializers.UUIDField(allow_null=True)
    category_id = serializers.UUIDField(
        allow_null=True,
        help_text="The product's category at checkout; null for none, and for orders placed "
        "before it was recorded.",
    )


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True, help_text="The actor's id.")
    by_role = serializers.CharField(allow_null=True)


class FulfilmentSerializer(serializers.Serializer):
    """A parcel of the order (read_api.seller_scope.fulfilment_body)."""

    id = serializers.UUIDField()
    product_ids = serializers.ListField(
        child=serializers.UUIDField(), help_text="Its lines the caller may see."
    )
    status = serializers.CharField(help_text="shipped, delivered")
    carrier = serializers.CharField(allow_null=True)
    tracking_number = serializers.CharField(allow_null=True)
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class RefundSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    amount = money()
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class OrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    payment = serializers.CharField()
    items = OrderLineSerializer(many=True, help_text="A seller gets only its own lines.")
    total = money(help_text="For a seller, its lines' subtotal: never the whole order's.")
    subtotal = money(help_text="The sum of `items`.")
    currency = serializers.CharField(help_text="ISO 4217, of every amount of the order.")
    shipping_address = AddressSerializer()
    fulfilments = FulfilmentSerializer(many=True, help_text="A seller gets only its own.")
    status_history = StatusChangeSerializer(many=True)
    payment_status = serializers.ChoiceField(
        choices=["unpaid", "paid", "partially_refunded", "refunded"]
    )
    refunded_total = money()
    refunds = RefundSerializer(many=True)
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class PastOrderLineSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    name = serializers.CharField(allow_blank=True)
    unit_price = money()
    quantity = serializers.IntegerField()
    category_id = serializers.UUIDField(allow_null=True)


class PastStatusChangeSerializer(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True)


class PastOrderSerializer(serializers.Serializer):
    """v2 `?as_of=`: the order rebuilt from its events up to that time."""

    id = serializers.UUIDField()
    status = serializers.CharField()
    total = money()
    currency = serializers.CharField(help_text="ISO 4217, of every amount of the order.")
    items = PastOrderLineSerializer(many=True)
    shipping_address = AddressSerializer()
    status_history = PastStatusChangeSerializer(many=True)
    payment_status = serializers.ChoiceField(
        choices=["unpaid", "paid", "partially_refunded", "refunded"]
    )
    refunded_total = money()
    refunds = RefundSerializer(many=True)
    version = serializers.IntegerField()
    as_of = serializers.DateTimeField()


ORDER_OR_PAST_ORDER = PolymorphicProxySerializer(
    component_name="OrderOrPastOrder",
    serializers=[OrderSerializer, PastOrderSerializer],
    resource_type_field_name=None,
)


class ReviewSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reviewer_name = serializers.CharField()
    rating = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ActorSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True)


class FieldChangeSerializer(serializers.Serializer):
    from_ = serializers.JSONField(allow_null=True, help_text="null when the product was created.")
    to = serializers.JSONField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class ProductChangeSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The event's position in the store.")
    version = serializers.IntegerField()
    type = serializers.CharField()
    at = serializers.DateTimeField()
    actor = ActorSerializer()
    changes = serializers.DictField(
        child=FieldChangeSerializer(),
        help_text="Each field the event changed (name, description, price, category_id, "
        "seller_id, stock, reserved, stock_available, discontinued) with its old and new value.",
    )


class EventSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    event_id = serializers.UUIDField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.UUIDField()
    version = serializers.IntegerField()
    type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    actor = ActorSerializer()
    request_id = serializers.CharField(allow_null=True)
    data = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]


class EscalationSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["open", "resolved"])
    reason = serializers.CharField()
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class EscalationMessageSerializer(serializers.Serializer):
    by = serializers.CharField(allow_null=True, help_text="The author's id.")
    role = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    at = serializers.DateTimeField()


class EscalationRefundSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    amount = money()
    status = serializers.CharField(
        help_text="succeeded, failed, or pending until the gateway settles it."
    )


class EscalationSerializer(EscalationSummarySerializer):
    messages = EscalationMessageSerializer(many=True)
    resolution = serializers.CharField(allow_null=True, help_text="refund or reject once resolved.")
    refund = EscalationRefundSerializer(allow_null=True)
    version = serializers.IntegerField()


PRODUCT_PAGE = page_of("ProductPage", ProductSerializer(many=True))
ORDER_PAGE = page_of("OrderSummaryPage", OrderSummarySerializer(many=True))
REVIEW_PAGE = page_of("ReviewPage", ReviewSerializer(many=True))
EVENT_PAGE = page_of("EventPage", EventSerializer(many=True))
ESCALATION_PAGE = page_of("EscalationPage", EscalationSummarySerializer(many=True))

PRODUCT_HISTORY_PAGE = inline_serializer(
    "ProductHistoryPage",
    {
        "count": serializers.IntegerField(
            required=False, help_text="Absent when paging with `cursor`."
        ),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": ProductChangeSerializer(many=True),
    },
)

TIMELINE = inline_serializer(
    "OrderTimeline",
    {"order_id": serializers.UUIDField(), "events": EventSerializer(many=True)},
)
EVENT_FEED = inline_serializer(
    "EventFeed",
    {
        "results": EventSerializer(many=True),
        "next": serializers.URLField(
            allow_null=True, help_text="Continues after the last position; null at the end."
        ),
        "events": EventSerializer(many=True, help_text="Same as results (first shape)."),
        "next_after": serializers.IntegerField(help_text="Pass as `after` for the next batch."),
    },
)
SUGGESTIONS = inline_serializer(
    "Suggestions", {"suggestions": serializers.ListField(child=serializers.CharField())}
)

FACETS = inline_serializer(
    "Facets",
    {
        "categories": inline_serializer(
            "CategoryFacet",
            {
                "id": serializers.CharField(),
                "path": serializers.CharField(allow_null=True),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
        "price_ranges": inline_serializer(
            "PriceRangeFacet",
            {
                "key": serializers.CharField(),
                "from": serializers.FloatField(allow_null=True),
                "to": serializers.FloatField(allow_null=True),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
        "ratings": inline_serializer(
            "RatingFacet",
            {
                "key": serializers.CharField(),
                "min": serializers.FloatField(allow_null=True),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
    },
)
SEARCH_PAGE = inline_serializer(
    "ProductSearchPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": ProductSerializer(many=True),
        "facets": FACETS,
    },
)

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATETIME,
    OpenApiParameter.QUERY,
    description="v2: the order as it was at this time, rebuilt from its events.",
)
PRODUCT_AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATETIME,
    OpenApiParameter.QUERY,
    description="v2: the product as it was at this time, rebuilt from its events (not cached; "
    "404 if it did not exist yet).",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer: 304 while the product is unchanged.",
)
ETAG = OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304])
NOT_MODIFIED = OpenApiResponse(description="Unchanged since the ETag in If-None-Match.")
