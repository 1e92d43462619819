"""Cart, checkout and order-lifecycle commands of the Shop application (a mixin)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from write_api.domain.cart import Cart, cart_id
from write_api.domain.errors import ConcurrentChange, Conflict, Forbidden, NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.domain.product import Product
from write_api.domain.review import Purchases, Review, purchases_id
from write_api.results import Saved

if TYPE_CHECKING:
    from write_api.application import Shop

    Base = Shop
else:
    Base = object


class OrderingCommands(Base):
    """Commands that move money and stock; each saves all it touches in one transaction."""

    # -- cart -------------------------------------------------------------------
    def add_to_cart(
        self, *, customer_id: UUID, product_id: UUID, quantity: int, context: CommandContext
    ) -> Saved:
        self._buyable(product_id)
        return self._update(
            self.cart_of,
            customer_id,
            lambda c: c.add(product_id=product_id, quantity=quantity, context=context),
        )

    def set_cart_quantity(
        self, *, customer_id: UUID, product_id: UUID, quantity: int, context: CommandContext
    ) -> Saved:
        return self._update(
            self.cart_of,
            customer_id,
            lambda c: c.set_quantity(product_id=product_id, quantity=quantity, context=context),
        )

    def remove_from_cart(
        self, *, customer_id: UUID, product_id: UUID, context: CommandContext
    ) -> Saved:
        return self._update(
            self.cart_of, customer_id, lambda c: c.remove(product_id=product_id, context=context)
        )

    def cart_of(self, customer_id: UUID) -> Cart:
        """The customer's cart, new and empty if they never had one."""
        try:
            return self._get(cart_id(customer_id), Cart, "Cart")
        except NotFound:
            return Cart(customer_id=customer_id)

    # -- checkout ---------------------------------------------------------------
    def check_out(
        self, *, customer_id: UUID, shipping_address: dict[str, Any], context: CommandContext
    ) -> Order:
        """Reserve every line's stock and place the order, or change nothing at all."""
        for attempt in range(1, self.attempts + 1):
            cart = self.cart_of(customer_id)
            products = {pid: self.get_product(pid) for pid in sorted(cart.lines)}
            order = self._place(cart, products, customer_id, shipping_address, context)
            try:
                self.save(cart, order, *products.values())
            except RecordConflictError:
                self._back_off(attempt)
                continue
            return order
        raise ConcurrentChange("The cart or its products changed too often; try again.")

    def _place(
        self,
        cart: Cart,
        products: dict[UUID, Product],
        customer_id: UUID,
        shipping_address: dict[str, Any],
        context: CommandContext,
    ) -> Order:
        short = {
            str(pid): {"requested": cart.lines[pid], "available": p.available}
            for pid, p in products.items()
            if p.available < cart.lines[pid]
        }
        if short:
            raise Conflict(
                "Not enough stock for some products.", {"products": short}, code="out_of_stock"
            )
        order_id = uuid.uuid4()
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

    # -- order lifecycle --------------------------------------------------------
    def get_order(self, order_id: UUID) -> Order:
        return self._get(order_id, Order, "Order")

    def advance_order(self, order_id: UUID, *, status: str, context: CommandContext) -> Saved:
        return self._update(
            self.get_order, order_id, lambda o: o.advance(status=status, context=context)
        )

    def cancel_order(self, order_id: UUID, *, reason: str, context: CommandContext) -> Saved:
        """Cancel and give the reserved units back, in one transaction."""

        return self._update(
            self.get_order, order_id, lambda o: self._cancel_releasing(o, reason, context)
        )

    def _cancel_releasing(
        self, order: Order, reason: str, context: CommandContext
    ) -> list[Product]:
        """Cancel the order and release its reservations; returns the products to save with it."""
        order.cancel(reason=reason, context=context)
        products = [self.get_product(pid) for pid in order.quantities]
        for product in products:
            product.release(order_id=order.id, context=context)
        return products

    def expire_order(
        self, order_id: UUID, *, now: datetime, timeout: timedelta, context: CommandContext
    ) -> bool:
        """Cancel an order left unpaid past `timeout`, releasing its stock; False if not overdue."""
        expired: list[bool] = [False]

        def expire(order: Order) -> list[Product]:
            if not order.is_overdue(now, timeout):
                return []
            expired[0] = True
            return self._cancel_releasing(order, "payment_timeout", context)

        self._update(self.get_order, order_id, expire)
        return expired[0]

    # -- reviews ----------------------------------------------------------------
    def purchases_of(self, customer_id: UUID) -> Purchases:
        try:
            return self._get(purchases_id(customer_id), Purchases, "Purchases")
        except NotFound:
            return Purchases(customer_id=customer_id)

    def write_review(
        self,
        *,
        customer_id: UUID,
        product_id: UUID,
        rating: int,
        comment: str,
        reviewer_name: str,
        context: CommandContext,
    ) -> Saved:
        """Only a customer who paid for the product reviews it, once, under their display name."""
        self.get_product(product_id)
        if not self.purchases_of(customer_id).has_bought(product_id):
            raise Forbidden(
                "Only customers who bought this product may review it.", code="not_a_buyer"
            )
        review = Review.write(
            customer_id=customer_id,
            product_id=product_id,
            rating=rating,
            comment=comment,
            reviewer_name=reviewer_name,
            context=context,
        )
        try:
            self.save(review)
        except RecordConflictError:
            raise Conflict(
                "You have already reviewed this product.", code="already_reviewed"
            ) from None
        return Saved(review.id, review.version)

    def _buyable(self, product_id: UUID) -> Product:
        product = self.get_product(product_id)
        if product.discontinued:
            raise NotFound(f"Product {product_id} is no longer sold.")
        return product
