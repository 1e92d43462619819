"""Checkouts that lose the race for a product queue on its advisory lock (PostgreSQL): they
wait for their turn and reload instead of replaying, fall back to retrying when the turn does
not come, never deadlock over two products and never oversell."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop, event_store_env
from write_api.domain.errors import Conflict
from write_api.domain.order import Order
from write_api.domain.product import Product
from write_api.stream_turns import lock_key

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class RacedShop(Shop):
    """The shop, with a seller restocking a product by one unit right after a thread first
    loads it: that thread's first checkout save then loses the race, every time."""

    name = Shop.name  # the same tables

    def __init__(self, **env: str) -> None:
        super().__init__(env=event_store_env(**env))
        self.restocked: set[tuple[int, UUID]] = set()

    def get_product(self, product_id: UUID) -> Product:
        product = super().get_product(product_id)
        loaded = (threading.get_ident(), product_id)
        if loaded not in self.restocked:
            self.restocked.add(loaded)
            self.adjust_stock(product_id, delta=1, context=CONTEXT)
        return product


@pytest.fixture
def raced() -> Iterator[RacedShop]:
    shop = RacedShop(STREAM_TURN_TIMEOUT_MS="60000")
    yield shop
    shop.close()


@contextmanager
def holding_turns(shop: Shop, *products: UUID) -> Iterator[None]:
    """Another writer holds the products' turns (their advisory locks) for the block."""
    with shop.factory.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        for key in sorted(lock_key(product) for product in products):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield


def waiting_for_turn(shop: Shop, product: UUID) -> int:
    """Sessions waiting for the product's advisory lock (a bigint key: high half, low half)."""
    key = lock_key(product) & 0xFFFF_FFFF_FFFF_FFFF
    with shop.factory.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            [key >> 32, key & 0xFFFF_FFFF],
        )
        return int(cursor.fetchone()["n"])


def eventually(condition: Any, future: Future[Any]) -> None:
    """Wait until `condition()` holds; fail at once if the checkout ended first."""
    for _ in range(600):
        if condition():
            return
        assert not future.done(), f"the checkout ended without waiting: {future.result()!r}"
        time.sleep(0.05)
    raise AssertionError("the checkout never queued")


def customer_with(shop: Shop, *products: UUID) -> UUID:
    customer = uuid4()
    for product in products:
        shop.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=CONTEXT)
    return customer


def check_out(shop: Shop, customer: UUID) -> Order:
    return shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)


def test_a_checkout_that_lost_the_race_waits_for_its_turn_then_places_the_order(
    shop_app: Shop, raced: RacedShop
) -> None:
    # given: the product's turn is taken, and a checkout will lose its first race for it
    mug = create_product(shop_app, stock=5).id
    customer = customer_with(shop_app, mug)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with holding_turns(shop_app, mug):
            # when
            placing = pool.submit(check_out, raced, customer)
            # then: it queues, and has placed nothing while it waits
            eventually(lambda: waiting_for_turn(shop_app, mug), placing)
            assert shop_app.get_product(mug).reserved == 0
        order = placing.result()
    product = shop_app.get_product(mug)
    assert (product.stock, product.reserved, product.reservations) == (6, 1, {order.id: 1})
    assert order.quantities == {mug: 1}


def test_a_checkout_whose_turn_does_not_come_retries_and_places_the_order(
    shop_app: Shop,
) -> None:
    # given: the turn stays taken for longer than the checkout waits for it
    impatient = RacedShop(STREAM_TURN_TIMEOUT_MS="50")
    mug = create_product(shop_app, stock=5).id
    customer = customer_with(shop_app, mug)
    try:
        with holding_turns(shop_app, mug):
            # when
            order = check_out(impatient, customer)
            # then: placed by the optimistic retry, while the turn is still taken
            product = shop_app.get_product(mug)
            assert (product.stock, product.reservations) == (6, {order.id: 1})
    finally:
        impatient.close()


def test_two_checkouts_wanting_two_products_in_opposite_orders_do_not_deadlock(
    shop_app: Shop, raced: RacedShop
) -> None:
    # given: carts filled in opposite orders; both turns taken; both checkouts will lose
    # their first race (each restock adds a unit: 3 of each product by then)
    mug, cup = create_product(shop_app, stock=1).id, create_product(shop_app, stock=1).id
    first, second = customer_with(shop_app, mug, cup), customer_with(shop_app, cup, mug)
    locked_first = min((mug, cup), key=lock_key)
    with ThreadPoolExecutor(max_workers=2) as pool:
        with holding_turns(shop_app, mug, cup):
            placing = [pool.submit(check_out, raced, c) for c in (first, second)]
            for future in placing:
                eventually(lambda: waiting_for_turn(shop_app, locked_first) == 2, future)
        # when: the turns are given back
        orders = [future.result() for future in placing]
    # then: both placed, one after the other
    for product in (mug, cup):
        saved = shop_app.get_product(product)
        assert (saved.stock, saved.reservations) == (3, {order.id: 1 for order in orders})


def test_concurrent_checkouts_of_two_products_in_any_order_sell_exactly_the_stock(
    shop_app: Shop,
) -> None:
    # given: 3 units of each of two products, and 16 carts holding both, in either order
    mug, cup = create_product(shop_app, stock=3).id, create_product(shop_app, stock=3).id
    customers = [customer_with(shop_app, *((mug, cup) if n % 2 else (cup, mug))) for n in range(16)]
    start = threading.Barrier(8)

    def race(customer: UUID) -> str:
        if customers.index(customer) < 8:
            start.wait()
        try:
            check_out(shop_app, customer)
        except Conflict as refused:
            return refused.code
        return "placed"

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(race, customers))
    # then
    assert sorted(outcomes) == ["out_of_stock"] * 13 + ["placed"] * 3
    for product in (mug, cup):
        saved = shop_app.get_product(product)
        assert (saved.stock, saved.reserved, saved.available) == (3, 3, 0)
