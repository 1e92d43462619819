"""Snapshots on PostgreSQL: a table on every prepared stack, and loads that start from them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest
from django.core.management import call_command

from tests.support.history import RowsRead, buy
from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.cart import cart_id
from write_api.domain.errors import Conflict
from write_api.store import SNAPSHOT_INTERVAL, replay

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def snapshot_versions(shop: Shop, aggregate_id: object) -> list[int]:
    with shop.factory.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
        curs.execute(
            "SELECT originator_version FROM shopstream_snapshots WHERE originator_id = %s"
            " ORDER BY originator_version",
            (aggregate_id,),
        )
        return [row["originator_version"] for row in curs.fetchall()]


def test_a_long_lived_product_and_cart_load_from_their_newest_snapshot(
    shop_app: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: one customer bought one product 50 times
    customer, mug = uuid4(), create_product(shop_app, stock=1000).id
    buy(shop_app, customer, mug, 50)
    events = RowsRead(monkeypatch, shop_app.recorder)
    # when
    product, cart = shop_app.get_product(mug), shop_app.cart_of(customer)
    # then
    assert snapshot_versions(shop_app, mug) == [20, 40, 60, 80, 100]
    assert snapshot_versions(shop_app, cart_id(customer)) == [20, 40, 60, 80, 100]
    assert events.rows == 2  # version 101 of each, after the snapshot of version 100
    assert (product.version, product.stock, product.reservations, cart.lines) == (101, 950, {}, {})


def test_prepare_stack_adds_the_snapshot_table_to_an_event_store_made_before_snapshots(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: an event store prepared before snapshots existed
    with shop_app.factory.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute("DROP TABLE shopstream_snapshots")
    # when: the next start prepares the stack
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then: commands snapshot again
    customer, mug = uuid4(), create_product(shop_app, stock=100).id
    buy(shop_app, customer, mug, SNAPSHOT_INTERVAL // 2)
    assert snapshot_versions(shop_app, mug) == [SNAPSHOT_INTERVAL]
    assert shop_app.get_product(mug).stock == 100 - SNAPSHOT_INTERVAL // 2


def test_concurrent_buyers_of_a_snapshotted_product_never_oversell(shop_app: Shop) -> None:
    # given: a product with a long history, 5 units left, and 12 customers with it in cart
    mug = create_product(shop_app, stock=50).id
    buy(shop_app, uuid4(), mug, 45)
    customers = [uuid4() for _ in range(12)]
    for customer in customers:
        shop_app.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=CONTEXT)

    def check_out(customer: UUID) -> bool:
        try:
            shop_app.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
        except Conflict:
            return False
        return True

    # when
    with ThreadPoolExecutor(max_workers=6) as pool:
        placed = list(pool.map(check_out, customers))
    # then
    product = shop_app.get_product(mug)
    assert placed.count(True) == 5
    assert (product.stock, product.reserved, product.available) == (5, 5, 0)
    assert vars(product) == vars(replay(None, shop_app.events.get(mug)))
