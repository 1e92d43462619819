"""Snapshots on PostgreSQL: a table on every prepared stack, and loads that start from them."""

from __future__ import annotations

from uuid import uuid4

import pytest
from django.core.management import call_command

from tests.support.history import RowsRead, buy
from tests.support.shop_data import create_product
from write_api.application import Shop
from write_api.domain.cart import cart_id
from write_api.store import SNAPSHOT_INTERVAL

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
