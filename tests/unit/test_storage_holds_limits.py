"""Every read column and index field is wide enough for the business limits (no I/O).

If a limit grows or a column shrinks, this fails before a projector meets a value it
cannot store.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import models

from projections.catalog.models import CategoryView, ProductView, ReviewView
from projections.catalog.search_index import MAPPINGS
from projections.shopping.models import (
    CartLineView,
    OrderFulfilmentView,
    OrderLineView,
    OrderView,
)
from write_api.accounts.models import User
from write_api.domain.limits import (
    CARRIER_MAX,
    CATEGORY_NAME_MAX,
    EMAIL_MAX,
    ORDER_TOTAL_MAX,
    PRICE_MAX,
    PRODUCT_NAME_MAX,
    QUANTITY_MAX,
    RATING_MAX,
    STOCK_MAX,
    TRACKING_NUMBER_MAX,
)

INT32_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1


def largest(field: models.Field) -> Decimal | int:
    if isinstance(field, models.DecimalField):
        places = field.decimal_places
        return Decimal(10) ** (field.max_digits - places) - Decimal(1).scaleb(-places)
    if isinstance(field, models.BigIntegerField):
        return LONG_MAX
    assert isinstance(field, models.IntegerField), field
    return INT32_MAX


@pytest.mark.parametrize(
    ("model", "column", "limit"),
    [
        (ProductView, "price", PRICE_MAX),
        (ProductView, "stock", STOCK_MAX),
        (ProductView, "reserved", STOCK_MAX),
        (ProductView, "rating_average", RATING_MAX),
        (OrderView, "total", ORDER_TOTAL_MAX),
        (OrderLineView, "unit_price", PRICE_MAX),
        (OrderLineView, "quantity", QUANTITY_MAX),
        (CartLineView, "quantity", QUANTITY_MAX),
        (ReviewView, "rating", RATING_MAX),
    ],
)
def test_each_number_column_holds_its_largest_allowed_value(
    model: type[models.Model], column: str, limit: Decimal | int
) -> None:
    assert largest(model._meta.get_field(column)) >= limit  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "column", "limit"),
    [
        (ProductView, "name", PRODUCT_NAME_MAX),
        (OrderLineView, "name", PRODUCT_NAME_MAX),
        (CategoryView, "name", CATEGORY_NAME_MAX),
        (User, "email", EMAIL_MAX),
        (OrderFulfilmentView, "carrier", CARRIER_MAX),
        (OrderFulfilmentView, "tracking_number", TRACKING_NUMBER_MAX),
    ],
)
def test_each_text_column_holds_its_longest_allowed_value(
    model: type[models.Model], column: str, limit: int
) -> None:
    assert model._meta.get_field(column).max_length >= limit


def test_the_search_mapping_holds_the_largest_stock_and_price() -> None:
    fields = MAPPINGS["properties"]
    assert fields["stock_available"]["type"] == "integer"
    assert fields["price"] == {"type": "scaled_float", "scaling_factor": 100}
    assert STOCK_MAX <= INT32_MAX
    assert PRICE_MAX * fields["price"]["scaling_factor"] <= LONG_MAX
