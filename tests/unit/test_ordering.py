from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.errors import Conflict, NotFound, ValidationFailed


def fill_cart(shop: Shop, customer, *items) -> None:  # type: ignore[no-untyped-def]
    for product_id, quantity in items:
        shop.add_to_cart(
            customer_id=customer, product_id=product_id, quantity=quantity, context=CONTEXT
        )


def test_cart_adds_changes_and_removes_lines(shop: Shop) -> None:
    # given
    customer, mug = uuid4(), create_product(shop).id
    # when
    fill_cart(shop, customer, (mug, 2), (mug, 3))
    shop.set_cart_quantity(customer_id=customer, product_id=mug, quantity=7, context=CONTEXT)
    # then
    assert shop.cart_of(customer).lines == {mug: 7}
    shop.set_cart_quantity(customer_id=customer, product_id=mug, quantity=0, context=CONTEXT)
    assert shop.cart_of(customer).lines == {}


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_cart_quantities_are_1_to_99(shop: Shop, quantity: int) -> None:
    with pytest.raises(ValidationFailed):
        fill_cart(shop, uuid4(), (create_product(shop).id, quantity))


def test_a_line_cannot_grow_past_99(shop: Shop) -> None:
    customer, mug = uuid4(), create_product(shop).id
    fill_cart(shop, customer, (mug, 60))
    with pytest.raises(ValidationFailed):
        fill_cart(shop, customer, (mug, 40))
    assert shop.cart_of(customer).lines == {mug: 60}


def test_unknown_or_discontinued_products_cannot_be_added(shop: Shop) -> None:
    customer, mug = uuid4(), create_product(shop).id
    shop.discontinue_product(mug, context=CONTEXT)
    with pytest.raises(NotFound):
        fill_cart(shop, customer, (mug, 1))
    with pytest.raises(NotFound):
        fill_cart(shop, customer, (uuid4(), 1))


def test_checkout_reserves_stock_places_the_order_and_empties_the_cart(shop: Shop) -> None:
    # given
    customer = uuid4()
    mug = create_product(shop, price=Decimal("12.50"), stock=5).id
    pot = create_product(shop, name="Pot", price=Decimal("30.00"), stock=1).id
    fill_cart(shop, customer, (mug, 2), (pot, 1))
    # when
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    # then
    assert (order.status, order.total) == ("pending_payment", Decimal("55.00"))
    assert {line["name"]: line["quantity"] for line in order.lines} == {"Blue mug": 2, "Pot": 1}
    assert (shop.get_product(mug).reserved, shop.get_product(mug).available) == (2, 3)
    assert shop.get_product(pot).available == 0
    assert shop.cart_of(customer).lines == {}


def test_checkout_refuses_more_than_stock_naming_the_products_and_changes_nothing(
    shop: Shop,
) -> None:
    # given
    customer = uuid4()
    mug = create_product(shop, stock=1).id
    pot = create_product(shop, stock=9).id
    fill_cart(shop, customer, (mug, 2), (pot, 1))
    # when
    with pytest.raises(Conflict) as refused:
        shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    # then
    assert refused.value.code == "out_of_stock"
    assert refused.value.details == {"products": {str(mug): {"requested": 2, "available": 1}}}
    assert shop.get_product(mug).reserved == shop.get_product(pot).reserved == 0
    assert shop.cart_of(customer).lines == {mug: 2, pot: 1}


def test_checkout_of_an_empty_cart_is_refused(shop: Shop) -> None:
    with pytest.raises(ValidationFailed) as refused:
        shop.check_out(customer_id=uuid4(), shipping_address=ADDRESS, context=CONTEXT)
    assert refused.value.code == "cart_empty"


def test_cancelling_releases_the_reservation_once(shop: Shop) -> None:
    # given
    customer, mug = uuid4(), create_product(shop, stock=3).id
    fill_cart(shop, customer, (mug, 2))
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    # when
    shop.cancel_order(order.id, reason="customer", context=CONTEXT)
    # then
    assert (shop.get_order(order.id).status, shop.get_product(mug).reserved) == ("cancelled", 0)
    with pytest.raises(Conflict) as again:
        shop.cancel_order(order.id, reason="customer", context=CONTEXT)
    assert again.value.code == "illegal_transition"


def test_fulfilment_moves_one_step_at_a_time(shop: Shop) -> None:
    # given
    customer, mug = uuid4(), create_product(shop, stock=3).id
    fill_cart(shop, customer, (mug, 1))
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    # when / then
    with pytest.raises(Conflict):
        shop.advance_order(order.id, status="processing", context=CONTEXT)
    shop.pay_order(order.id, charge_id="ch_1", context=CONTEXT)
    assert (shop.get_product(mug).stock, shop.get_product(mug).reserved) == (2, 0)
    for status in ("processing", "shipped", "delivered"):
        shop.advance_order(order.id, status=status, context=CONTEXT)
    assert shop.get_order(order.id).status == "delivered"
    with pytest.raises(Conflict):
        shop.cancel_order(order.id, reason="late", context=CONTEXT)


def test_an_unpaid_order_expires_after_the_timeout_and_releases_its_stock(shop: Shop) -> None:
    # given
    customer, mug = uuid4(), create_product(shop, stock=3).id
    fill_cart(shop, customer, (mug, 2))
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    placed = shop.get_order(order.id).created_on
    # when
    early = shop.expire_order(
        order.id, now=placed + timedelta(minutes=14), timeout=timedelta(minutes=15), context=CONTEXT
    )
    late = shop.expire_order(
        order.id, now=placed + timedelta(minutes=15), timeout=timedelta(minutes=15), context=CONTEXT
    )
    # then
    assert (early, late) == (False, True)
    assert shop.get_order(order.id).status == "cancelled"
    assert shop.get_product(mug).reserved == 0
    assert list(shop.events.get(order.id))[-1].reason == "payment_timeout"


def test_paid_orders_and_pending_charges_never_expire(shop: Shop) -> None:
    customer, mug = uuid4(), create_product(shop, stock=3).id
    fill_cart(shop, customer, (mug, 1))
    paid = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    shop.pay_order(paid.id, charge_id="ch_1", context=CONTEXT)
    fill_cart(shop, customer, (mug, 1))
    pending = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    shop.record_payment_pending(pending.id, charge_id="ch_2", context=CONTEXT)
    later = shop.get_order(pending.id).created_on + timedelta(hours=1)
    for order_id in (paid.id, pending.id):
        assert (
            shop.expire_order(order_id, now=later, timeout=timedelta(minutes=15), context=CONTEXT)
            is False
        )


def test_a_cart_holds_at_most_100_lines(shop: Shop) -> None:
    # given
    customer = uuid4()
    products = [create_product(shop, stock=1).id for _ in range(101)]
    fill_cart(shop, customer, *[(p, 1) for p in products[:100]])
    # when / then
    with pytest.raises(Conflict) as refused:
        fill_cart(shop, customer, (products[100], 1))
    assert refused.value.code == "cart_full"
    fill_cart(shop, customer, (products[0], 1))  # a line already there may still grow
    assert len(shop.cart_of(customer).lines) == 100
