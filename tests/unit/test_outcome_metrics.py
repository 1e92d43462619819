"""Checkouts and payments are counted by outcome, in words from a fixed vocabulary."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from prometheus_client import REGISTRY

from tests.support.gateways import RecordingGateway
from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.errors import DomainError
from write_api.paying import PaymentDeclined, Payments


def count(name: str, outcome: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", {"outcome": outcome}) or 0.0


def test_a_placed_checkout_and_a_refused_one_count_under_their_outcomes(shop: Shop) -> None:
    # given: two carts hold the last mug
    first, second = uuid4(), uuid4()
    mug = create_product(shop, price=Decimal("3.00"), stock=1).id
    for customer in (first, second):
        shop.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=CONTEXT)
    placed, short = (
        count("shopstream_checkouts", "placed"),
        count("shopstream_checkouts", "out_of_stock"),
    )
    # when
    shop.check_out(customer_id=first, shipping_address=ADDRESS, context=CONTEXT)
    with pytest.raises(DomainError) as refused:
        shop.check_out(customer_id=second, shipping_address=ADDRESS, context=CONTEXT)
    # then
    assert refused.value.code == "out_of_stock"
    assert count("shopstream_checkouts", "placed") == placed + 1
    assert count("shopstream_checkouts", "out_of_stock") == short + 1


def test_pay_calls_count_paid_and_declined(shop: Shop) -> None:
    # given
    payments = Payments(shop, RecordingGateway(), resume_after=timedelta(seconds=60))
    orders = []
    for _ in range(2):
        customer = uuid4()
        mug = create_product(shop, price=Decimal("3.00"), stock=1).id
        shop.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=CONTEXT)
        order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
        orders.append((order.id, customer))
    paid, declined = (
        count("shopstream_payments", "paid"),
        count("shopstream_payments", "payment_declined"),
    )
    # when
    payments.pay_order_with_token(
        orders[0][0], customer_id=orders[0][1], token="tok_ok", context=CONTEXT
    )
    with pytest.raises(PaymentDeclined):
        payments.pay_order_with_token(
            orders[1][0], customer_id=orders[1][1], token="tok_declined", context=CONTEXT
        )
    # then
    assert count("shopstream_payments", "paid") == paid + 1
    assert count("shopstream_payments", "payment_declined") == declined + 1
