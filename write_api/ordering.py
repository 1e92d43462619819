"""Cart, checkout, order-lifecycle and review commands."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from write_api.domain.cart import Cart
from write_api.domain.errors import Conflict, Forbidden, NotFound
from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.domain.product import Product
from write_api.domain.review import Review
from write_api.metrics import CHECKOUTS, counted
from write_api.results import CartLines, Saved
from write_api.store import Decision, ShopStore


class OrderingCommands(ShopStore):
    """Commands that move money and stock; each saves all it touches in one transaction."""

    # -- cart -------------------------------------------------------------------
    def add_to_cart(
        self, *, customer_id: UUID, product_id: UUID, quantity: int, context: CommandContext
    ) -> CartLines:
        self._buyable(product_id)
        return self._change_cart(
            customer_id, lambda c: c.add(product_id=product_id, quantity=quantity, context=context)
        )

    def set_cart_quantity(
        self, *, customer_id: UUID, product_id: UUID, quantity: int, context: CommandContext
    ) -> CartLines:
        return self._change_cart(
            customer_id,
            lambda c: c.set_quantity(product_id=product_id, quantity=quantity, context=context),
        )

    def remove_from_cart(
        self, *, customer_id: UUID, product_id: UUID, context: CommandContext
    ) -> CartLines:
        return self._change_cart(
            customer_id, lambda c: c.remove(product_id=product_id, context=context)
        )

    def _change_cart(self, customer_id: UUID, change: Callable[[Cart], None]) -> CartLines:
        """Change the customer's cart and answer with its lines as saved (no second load)."""

        def decide(cart: Cart) -> Decision[CartLines]:
            change(cart)
            return Decision(CartLines(cart.id, cart.version, dict(cart.lines)))

        _, lines = self._decide(self.cart_of, customer_id, decide)
        return lines

    # -- checkout ---------------------------------------------------------------
    def check_out(
        self,
        *,
        customer_id: UUID,
        shipping_address: dict[str, Any],
        context: CommandContext,
        save_options: Callable[[Order], Mapping[str, Any]] | None = None,
    ) -> Order:
        """Reserve every line's stock and place the order, or change nothing at all.

        `save_options(order)` adds to the save (the Idempotency-Key's record, in its transaction).
        """

        def attempt() -> tuple[list[Aggregate], Order]:
            order_id = uuid.uuid4()
            cart = self.cart_of(customer_id)
            products = {pid: self.get_product(pid) for pid in sorted(cart.lines)}
            order = Order.check_out(
                cart,
                products,
                order_id=order_id,
                customer_id=customer_id,
                shipping_address=shipping_address,
                currency=self.currency,
                context=context,
            )
            return [cart, order, *products.values()], order

        with counted(CHECKOUTS, success="placed"):
            return self._retrying(attempt, save_options)

    # -- order lifecycle --------------------------------------------------------
    def advance_order(self, order_id: UUID, *, status: str, context: CommandContext) -> Saved:
        return self._update(
            self.get_order, order_id, lambda o: o.advance(status=status, context=context)
        )

    def cancel_order(self, order_id: UUID, *, reason: str, context: CommandContext) -> Saved:
        """Cancel and give the reserved units back, in one transaction."""

        saved, _ = self._decide(
            self.get_order, order_id, lambda o: self._cancel_releasing(o, reason, context)
        )
        return saved

    def _cancel_releasing(
        self, order: Order, reason: str, context: CommandContext
    ) -> Decision[bool]:
        """Cancel the order and release its reservations, saved with it."""
        order.cancel(reason=reason, context=context)
        products = [self.get_product(pid) for pid in order.quantities]
        for product in products:
            product.release(order_id=order.id, context=context)
        return Decision(True, also_changed=products)

    def expire_order(
        self, order_id: UUID, *, now: datetime, timeout: timedelta, context: CommandContext
    ) -> bool:
        """Cancel an order left unpaid past `timeout`, releasing its stock; False if not overdue."""

        def expire(order: Order) -> Decision[bool]:
            if not order.is_overdue(now, timeout):
                return Decision(False)
            return self._cancel_releasing(order, "payment_timeout", context)

        _, expired = self._decide(self.get_order, order_id, expire)
        return expired

    # -- reviews ----------------------------------------------------------------
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
