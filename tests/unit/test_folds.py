"""The folds the projectors and the rebuild or history share, each written once."""

from decimal import Decimal

import pytest

from projections.catalog.ratings import rating_of
from projections.shopping.order_status import payment_after, status_after


def test_a_product_without_reviews_has_no_average_and_a_count_of_zero() -> None:
    assert rating_of([]) == (None, 0)


@pytest.mark.parametrize(
    ("ratings", "average"),
    [
        ([5], Decimal("5.00")),
        ([4, 4, 5], Decimal("4.33")),
        ([1, 2], Decimal("1.50")),
        ([2] * 13 + [3] * 27, Decimal("2.68")),  # 2.675 exactly: half to even, no float error
        ([2] * 5 + [3] * 3, Decimal("2.38")),  # 2.375 exactly
    ],
)
def test_the_rating_average_has_two_places_rounded_half_to_even(
    ratings: list[int], average: Decimal
) -> None:
    assert rating_of(ratings) == (average, len(ratings))


@pytest.mark.parametrize(
    ("event_type", "data", "status"),
    [
        ("OrderPlaced", {"total": "1.00"}, "pending_payment"),
        ("OrderPaid", {"charge_id": "ch_1"}, "paid"),
        ("OrderCancelled", {"reason": "by customer"}, "cancelled"),
        ("OrderStatusChanged", {"status": "shipped"}, "shipped"),
        ("OrderPaymentStarted", {"status": "ignored"}, None),
        ("OrderPaymentFailed", {}, None),
    ],
)
def test_order_events_move_the_status_only_when_they_are_status_events(
    event_type: str, data: dict[str, str], status: str | None
) -> None:
    assert status_after(event_type, data) == status


@pytest.mark.parametrize(
    ("event_type", "payment"),
    [
        ("OrderPaymentStarted", "pending"),
        ("OrderPaymentPending", "pending"),
        ("OrderPaymentFailed", "declined"),
        ("OrderPaid", "captured"),
        ("OrderPaymentResumed", None),
        ("OrderStatusChanged", None),
    ],
)
def test_order_events_move_the_payment_state_only_when_they_are_payment_events(
    event_type: str, payment: str | None
) -> None:
    assert payment_after(event_type) == payment
