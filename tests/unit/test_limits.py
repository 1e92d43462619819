"""The shop's business limits, enforced by the domain whatever the entry point."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from tests.support.shop_data import ADDRESS, CONTEXT, add_category, create_product
from write_api.application import Shop
from write_api.domain.errors import Conflict, ValidationFailed
from write_api.domain.limits import (
    PRICE_MAX,
    QUANTITY_MAX,
    STOCK_MAX,
    text_errors,
    text_problem,
)
from write_api.domain.order import Order
from write_api.domain.product import Product

NUL = "\x00"
LONE_SURROGATE = "\ud800"  # what JSON "\ud800" parses to


@pytest.mark.parametrize(
    ("value", "multiline", "problem"),
    [
        ("Blue mug ☕ 𝄞", False, None),
        ("two\nlines\tand a tab", True, None),
        (f"a{NUL}b", True, "Must not contain the NUL character."),
        (f"a{LONE_SURROGATE}b", True, "Must not contain unpaired surrogate characters."),
        ("a\udc00", False, "Must not contain unpaired surrogate characters."),
        ("a\nb", False, "Must not contain control characters."),
        ("bell\x07", True, "Must not contain control characters."),
        ("del\x7f", True, "Must not contain control characters."),
        ("c1\x85", True, "Must not contain control characters."),
    ],
)
def test_text_problem_names_what_no_read_model_could_store(
    value: str, multiline: bool, problem: str | None
) -> None:
    assert text_problem(value, multiline=multiline) == problem


def test_text_errors_reports_length_and_cleanliness_together() -> None:
    assert text_errors(f"{NUL}xx", min_length=1, max_length=2) == [
        "Must be 1 to 2 characters.",
        "Must not contain the NUL character.",
    ]
    assert text_errors("xxx", max_length=2) == ["Must be at most 2 characters."]
    assert text_errors("xx", min_length=1, max_length=2) == []


def test_create_product_accepts_the_limits_themselves(shop: Shop) -> None:
    # when
    saved = create_product(shop, price=PRICE_MAX, stock=STOCK_MAX, description="a\nb\tc")
    # then
    product = shop.get_product(saved.id)
    assert (product.price, product.stock) == (PRICE_MAX, STOCK_MAX)


def test_reprice_above_the_maximum_is_refused_and_changes_nothing(shop: Shop) -> None:
    # given
    saved = create_product(shop)
    # when
    with pytest.raises(ValidationFailed) as refused:
        shop.change_product(saved.id, price=PRICE_MAX * 2, context=CONTEXT)
    # then
    assert list(refused.value.details) == ["price"]
    assert shop.get_product(saved.id).version == 1


def test_stock_never_goes_above_the_maximum(shop: Shop) -> None:
    # given
    saved = create_product(shop, stock=STOCK_MAX - 5)
    # when
    with pytest.raises(Conflict) as refused:
        shop.adjust_stock(saved.id, delta=6, context=CONTEXT)
    level = shop.adjust_stock(saved.id, delta=5, context=CONTEXT)
    # then
    assert refused.value.code == "stock_above_maximum"
    assert refused.value.details == {"delta": ["At most 5 is allowed."]}
    assert (level.stock, level.version) == (STOCK_MAX, 2)


def test_a_full_line_at_the_highest_price_checks_out_within_the_total_bound(shop: Shop) -> None:
    # given
    customer = uuid4()
    product = create_product(shop, price=PRICE_MAX, stock=QUANTITY_MAX).id
    shop.add_to_cart(
        customer_id=customer, product_id=product, quantity=QUANTITY_MAX, context=CONTEXT
    )
    # when
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    # then
    assert order.total == PRICE_MAX * QUANTITY_MAX


def test_an_order_above_the_total_bound_is_refused(shop: Shop) -> None:
    # given: a price no product may have now, as an older stored product might
    line = {
        "product_id": uuid4(),
        "name": "Old",
        "unit_price": Decimal("999999999999.99"),
        "quantity": 2,
        "seller_id": uuid4(),
        "category_id": None,
    }
    # when
    with pytest.raises(Conflict) as refused:
        Order.place(
            order_id=uuid4(),
            customer_id=uuid4(),
            lines=[line],
            shipping_address=ADDRESS,
            currency="USD",
            context=CONTEXT,
        )
    # then
    assert refused.value.code == "order_total_too_large"


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ({**ADDRESS, "city": f"Spring{NUL}field"}, "city"),
        ({**ADDRESS, "name": LONE_SURROGATE}, "name"),
        ({**ADDRESS, "postcode": "1" * 21}, "postcode"),
        ({**ADDRESS, "floor": "3"}, "floor"),
        ({k: v for k, v in ADDRESS.items() if k != "line1"}, "line1"),
    ],
)
def test_checkout_refuses_an_address_no_read_model_could_store(
    shop: Shop, address: dict[str, str], field: str
) -> None:
    # given
    customer = uuid4()
    product = create_product(shop).id
    shop.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=CONTEXT)
    # when
    with pytest.raises(ValidationFailed) as refused:
        shop.check_out(customer_id=customer, shipping_address=address, context=CONTEXT)
    # then
    assert list(refused.value.details["shipping_address"]) == [field]  # type: ignore[call-overload]
    assert shop.get_product(product).reserved == 0
    assert shop.cart_of(customer).lines == {product: 1}


@pytest.mark.parametrize("name", [f"Kitchen{NUL}", f"Kitchen{LONE_SURROGATE}", "Kit\tchen"])
def test_a_category_name_is_clean_text(shop: Shop, name: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        add_category(shop, name)
    assert list(refused.value.details) == ["name"]
    assert shop.recorder.max_notification_id() is None


def test_a_review_comment_is_clean_text(shop: Shop) -> None:
    # given: a customer who bought the product
    customer = uuid4()
    product = create_product(shop).id
    shop.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    shop.pay_order(order.id, charge_id="ch_1", context=CONTEXT)
    head = shop.recorder.max_notification_id()
    # when
    with pytest.raises(ValidationFailed) as refused:
        shop.write_review(
            customer_id=customer,
            product_id=product,
            rating=5,
            comment=f"Great{NUL}",
            reviewer_name="Ann",
            context=CONTEXT,
        )
    # then
    assert refused.value.details == {"comment": ["Must not contain the NUL character."]}
    assert shop.recorder.max_notification_id() == head


def test_an_account_email_is_clean_text(shop: Shop) -> None:
    with pytest.raises(ValidationFailed) as refused:
        shop.register_account(
            user_id=uuid4(), email=f"a{NUL}@example.com", role="customer", context=CONTEXT
        )
    assert list(refused.value.details) == ["email"]
    assert shop.recorder.max_notification_id() is None


def test_a_product_stored_before_the_limits_only_loses_stock(shop: Shop) -> None:
    # given: stock at 2^31 - 1, as issue 8's reproduction stored it (the event body skips checks)
    legacy = Product(
        name="Old",
        description="",
        price=Decimal("1.00"),
        category_id=None,
        stock=2**31 - 1,
        seller_id=uuid4(),
        metadata=CONTEXT.as_event_metadata(),
    )
    shop.save(legacy)
    # when
    with pytest.raises(Conflict) as refused:
        shop.adjust_stock(legacy.id, delta=1, context=CONTEXT)
    level = shop.adjust_stock(legacy.id, delta=-(2**31 - 1 - STOCK_MAX), context=CONTEXT)
    # then
    assert refused.value.code == "stock_above_maximum"
    assert (level.stock, level.version) == (STOCK_MAX, 2)
