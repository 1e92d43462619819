"""Serializer fields stricter than DRF's defaults: a wrong JSON type is a validation error.

Text is checked here once for every command body: clean (no NUL, no lone surrogate, no
control character) so that every read model can store it. Bounds come from
`write_api.domain.limits`, the same values the domain enforces.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from write_api.domain.limits import PRICE_MAX, PRICE_MIN, text_problem

_TWO_PLACES = re.compile(r"\d{1,12}\.\d{2}", re.ASCII)


class StrictCharField(serializers.CharField):
    """A JSON string only (DRF would turn 123 into "123"), of clean, storable text.

    `multiline=True` allows tabs and line breaks (descriptions, comments).
    """

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        problem = text_problem(value, multiline=self.multiline)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class StrictChoiceField(serializers.ChoiceField):
    """One of `choices`; the refusal lists them and never echoes the input.

    DRF's message quotes the input, and a lone surrogate in it cannot be encoded as UTF-8.
    """

    def __init__(self, *, choices: list[str] | tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)
        self.error_messages["invalid_choice"] = f"Must be one of: {', '.join(choices)}."


def printable(text: str) -> str:
    """`text` with lone surrogates written as escapes (\\ud800), so it can be encoded as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only; DRF would accept "5" and 5.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class MoneyField(serializers.DecimalField):
    """A decimal string ("19.99") or JSON number; the domain checks sign and places."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=14, decimal_places=None, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class PriceField(MoneyField):
    """A product's unit price, within the shop's price limits."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=PRICE_MIN, max_value=PRICE_MAX, **kwargs)


@extend_schema_field({"type": "string", "pattern": r"^\d{1,12}\.\d{2}$", "example": "12.50"})
class RefundAmountField(serializers.Field):
    """A positive amount written with exactly two decimal places, as a JSON string ("12.50").

    A JSON number cannot say how many places it was written with (10.5 and 10.50 parse alike).
    """

    default_error_messages = {"invalid": 'A positive amount with two decimal places, e.g. "12.50".'}

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not _TWO_PLACES.fullmatch(data):
            self.fail("invalid")
        amount = Decimal(data)
        if amount <= 0:
            self.fail("invalid")
        return amount

    def to_representation(self, value: Any) -> str:
        return str(value)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only; DRF would accept "yes", 1 and "on"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
