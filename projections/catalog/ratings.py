"""A product's rating: the one fold of its reviews, used by the projector and the rebuild."""

from __future__ import annotations

from collections.abc import Collection
from decimal import ROUND_HALF_EVEN, Decimal

CENTS = Decimal("0.01")


def rating_of(ratings: Collection[int]) -> tuple[Decimal | None, int]:
    """The average (two places, half to even; None without reviews) and the review count."""
    if not ratings:
        return None, 0
    average = Decimal(sum(ratings)) / Decimal(len(ratings))
    return average.quantize(CENTS, rounding=ROUND_HALF_EVEN), len(ratings)
