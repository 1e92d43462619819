"""The checkout decision: a cart and its products become an order, or nothing changes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from write_api.domain.cart import Cart
from write_api.domain.errors import Conflict
from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.domain.product import Product


def place_order(
    cart: Cart,
    products: dict[UUID, Product],
    *,
    order_id: UUID,
    customer_id: UUID,
    shipping_address: dict[str, Any],
    context: CommandContext,
) -> Order:
    """Check every line's stock, snapshot the prices, empty the cart and reserve the units.

    `products` holds each product of the cart's lines. Raises Conflict("out_of_stock") with
    every short line before any aggregate records an event.
    """
    short = {
        str(pid): {"requested": cart.lines[pid], "available": p.available}
        for pid, p in products.items()
        if p.available < cart.lines[pid]
    }
    if short:
        raise Conflict(
            "Not enough stock for some products.", {"products": short}, code="out_of_stock"
        )
    quantities = dict(cart.lines)
    cart.check_out(order_id=order_id, context=context)
    lines = [
        {
            "product_id": pid,
            "name": p.name,
            "unit_price": p.price,
            "quantity": quantities[pid],
            "seller_id": p.seller_id,
        }
        for pid, p in products.items()
    ]
    order = Order.place(
        order_id=order_id,
        customer_id=customer_id,
        lines=lines,
        shipping_address=shipping_address,
        context=context,
    )
    for pid, product in products.items():
        product.reserve(order_id=order_id, quantity=quantities[pid], context=context)
    return order
