"""The checkout decision on its own: aggregates in memory, no application, no store."""

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from tests.support.shop_data import ADDRESS, CONTEXT
from write_api.domain.cart import Cart
from write_api.domain.errors import Conflict
from write_api.domain.order import Order
from write_api.domain.product import Product


def product(
    name: str,
    price: str,
    stock: int,
    seller_id: UUID | None = None,
    category_id: UUID | None = None,
) -> Product:
    return Product.create(
        name=name,
        description="",
        price=Decimal(price),
        category_id=category_id,
        stock=stock,
        seller_id=seller_id,
        context=CONTEXT,
    )


def cart_with(customer: UUID, *lines: tuple[Product, int]) -> Cart:
    cart = Cart(customer_id=customer)
    for item, quantity in lines:
        cart.add(product_id=item.id, quantity=quantity, context=CONTEXT)
    return cart


def test_placing_an_order_snapshots_prices_totals_reserves_and_empties_the_cart() -> None:
    # given
    customer, order_id, seller, kitchen = uuid4(), uuid4(), uuid4(), uuid4()
    mug, pot = product("Mug", "12.50", 5, seller, kitchen), product("Pot", "30.00", 1)
    cart = cart_with(customer, (mug, 2), (pot, 1))
    # when
    order = Order.check_out(
        cart,
        {mug.id: mug, pot.id: pot},
        order_id=order_id,
        customer_id=customer,
        shipping_address=ADDRESS,
        currency="EUR",
        context=CONTEXT,
    )
    # then
    assert (order.id, order.customer_id, order.total) == (order_id, customer, Decimal("55.00"))
    assert order.currency == "EUR"
    assert order.lines == [
        {
            "product_id": mug.id,
            "name": "Mug",
            "unit_price": Decimal("12.50"),
            "quantity": 2,
            "seller_id": seller,
            "category_id": kitchen,
        },
        {
            "product_id": pot.id,
            "name": "Pot",
            "unit_price": Decimal("30.00"),
            "quantity": 1,
            "seller_id": None,
            "category_id": None,
        },
    ]
    assert (mug.reserved, mug.available, pot.available) == (2, 3, 0)
    assert cart.lines == {}


def test_placing_an_order_with_a_short_line_names_it_and_records_no_event() -> None:
    # given
    customer = uuid4()
    mug, pot = product("Mug", "12.50", 1), product("Pot", "30.00", 9)
    cart = cart_with(customer, (mug, 2), (pot, 1))
    pending = [len(a.collect_events()) for a in (cart, mug, pot)]
    # when
    with pytest.raises(Conflict) as refused:
        Order.check_out(
            cart,
            {mug.id: mug, pot.id: pot},
            order_id=uuid4(),
            customer_id=customer,
            shipping_address=ADDRESS,
            currency="EUR",
            context=CONTEXT,
        )
    # then
    assert refused.value.code == "out_of_stock"
    assert refused.value.details == {"products": {str(mug.id): {"requested": 2, "available": 1}}}
    assert pending == [3, 1, 1]
    assert [len(a.collect_events()) for a in (cart, mug, pot)] == [0, 0, 0]
    assert cart.lines == {mug.id: 2, pot.id: 1}
    assert mug.reserved == pot.reserved == 0
