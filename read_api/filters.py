"""Query-string filters of product search, checked before anything reaches OpenSearch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from read_api.search import ORDERINGS, ProductQuery


class ProductFilters(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    category = serializers.UUIDField(required=False, default=None)
    min_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, default=None
    )
    max_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, default=None
    )
    in_stock = serializers.BooleanField(required=False, default=False)
    seller = serializers.UUIDField(required=False, default=None)
    min_rating = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("5"),
        required=False,
        default=None,
    )
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["Must not exceed max_price."]})
        return attrs

    def product_query(self) -> ProductQuery:
        data = self.validated_data
        return ProductQuery(
            text=data["search"].strip(),
            category=data["category"],
            min_price=data["min_price"],
            max_price=data["max_price"],
            in_stock=data["in_stock"],
            seller=data["seller"],
            min_rating=data["min_rating"],
            ordering=data["ordering"],
        )
