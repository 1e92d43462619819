"""A product's rating: the one fold of its reviews, used by the projector and the rebuild."""

from __future__ import annotations

from collections.abc import Collection
from decimal import ROUND_HALF_EVEN, Decimal

CENTS = Decimal("0.01")


def rating_of(ratings: Collection[int]) -> tuple[Decimal | None, int]:
    """The average (two places, half to even; None without reviews) and the review count."""
    return rating_from_totals(sum(ratings), len(ratings))


def rating_from_totals(total: int, count: int) -> tuple[Decimal | None, int]:
    """The same from the sum and the number of ratings (as SQL adds them up)."""
    if not count:
        return None, 0
    average = Decimal(total) / Decimal(count)
    return average.quantize(CENTS, rounding=ROUND_HALF_EVEN), count
