"""A marketplace order for tests: lines of two sellers, paid, built on any Shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext


@dataclass(frozen=True)
class TwoSellerOrder:
    """Seller A sells the mug (10.00) and the pot (5.00), seller B the lamp (30.00)."""

    order_id: UUID
    customer_id: UUID
    seller_a: UUID
    seller_b: UUID
    mug: UUID
    pot: UUID
    lamp: UUID


def two_seller_order(
    shop: Shop,
    *,
    paid: bool = True,
    customer_id: UUID | None = None,
    seller_a: UUID | None = None,
    seller_b: UUID | None = None,
) -> TwoSellerOrder:
    customer_id, seller_a, seller_b = (
        customer_id or uuid4(),
        seller_a or uuid4(),
        seller_b or uuid4(),
    )
    mug = create_product(shop, name="Mug", seller_id=seller_a, price=Decimal("10.00")).id
    pot = create_product(shop, name="Pot", seller_id=seller_a, price=Decimal("5.00")).id
    lamp = create_product(shop, name="Lamp", seller_id=seller_b, price=Decimal("30.00")).id
    for product_id in (mug, pot, lamp):
        shop.add_to_cart(
            customer_id=customer_id, product_id=product_id, quantity=1, context=CONTEXT
        )
    order = shop.check_out(customer_id=customer_id, shipping_address=ADDRESS, context=CONTEXT)
    if paid:
        pay_at_once(shop, order.id)
    return TwoSellerOrder(order.id, customer_id, seller_a, seller_b, mug, pot, lamp)


def pay_at_once(shop: Shop, order_id: UUID) -> None:
    """The payment commands a tok_ok charge runs, without the gateway."""
    context = CommandContext(actor_role="payment_gateway")
    started = shop.begin_payment(
        order_id,
        now=datetime.now(UTC),
        resume_after=timedelta(seconds=60),
        context=context,
    )
    shop.pay_order(order_id, charge_id="ch_test", attempt_id=started.attempt_id, context=context)
