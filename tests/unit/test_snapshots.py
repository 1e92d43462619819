"""Snapshots: loads read a bounded number of events, and a snapshot of another shape is ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.history import RowsRead, buy
from tests.support.shop_data import CONTEXT, add_category, create_product
from write_api.application import Shop
from write_api.domain.cart import cart_id
from write_api.domain.product import Product
from write_api.domain.review import purchases_id
from write_api.snapshots import StampedSnapshot
from write_api.store import SNAPSHOT_INTERVAL, replay


def rebuilt_from_events(shop: Shop, aggregate_id: UUID) -> Any:
    return replay(None, shop.events.get(aggregate_id))


def test_loads_read_fewer_events_than_the_snapshot_interval_however_long_the_history(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: one customer bought one product 100 times
    customer, mug = uuid4(), create_product(shop, stock=1000).id
    buy(shop, customer, mug, 100)
    histories = [len(list(shop.events.get(i))) for i in (mug, cart_id(customer))]
    events, snapshots = (
        RowsRead(monkeypatch, shop.recorder),
        RowsRead(monkeypatch, shop.snapshots.recorder),
    )
    # when
    product, cart = shop.get_product(mug), shop.cart_of(customer)
    # then
    assert histories == [201, 201]
    assert (product.version, cart.version) == (201, 201)
    assert events.rows < 2 * SNAPSHOT_INTERVAL
    assert snapshots.rows == 2
    assert (product.stock, product.reserved, product.reservations, cart.lines) == (900, 0, {}, {})


def test_a_product_keeps_only_its_open_reservations_in_state_and_snapshots(shop: Shop) -> None:
    # given: 60 orders paid, then 3 left unpaid
    customer, mug = uuid4(), create_product(shop, stock=1000).id
    buy(shop, customer, mug, 60)
    unpaid = buy(shop, customer, mug, 3, pay=False)
    # when
    product = shop.get_product(mug)
    [latest] = shop.snapshots.get(mug, desc=True, limit=1)
    # then
    assert product.reservations == dict.fromkeys(unpaid, 1)
    assert (product.stock, product.reserved) == (940, 3)
    assert len(latest.state["reservations"]) <= 3


def test_a_snapshot_of_an_old_class_version_is_ignored(shop: Shop) -> None:
    # given: a product whose newest snapshot has an older shape (and misleading values)
    mug = create_product(shop, stock=5).id
    shop.adjust_stock(mug, delta=2, context=CONTEXT)
    old_shape = StampedSnapshot(
        originator_id=mug,
        originator_version=2,
        timestamp=datetime.now(UTC),
        topic="shopstream.product",
        state={"name": "Old shape", "stock": 999, "class_version": 0},
    )
    shop.snapshots.put([old_shape])
    # when
    product = shop.get_product(mug)
    # then: rebuilt from its events
    assert (product.name, product.stock, product.reservations, product.version) == (
        "Blue mug",
        7,
        {},
        2,
    )
    assert [s.originator_version for s in shop.snapshots.recorder.select_events(mug)] == [2]


def test_raising_a_class_version_makes_its_stored_snapshots_ignored(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a product snapshotted under the current shape
    mug = create_product(shop, stock=5).id
    for _ in range(SNAPSHOT_INTERVAL):
        shop.adjust_stock(mug, delta=1, context=CONTEXT)
    events = RowsRead(monkeypatch, shop.recorder)
    # when: the class declares a new shape
    monkeypatch.setattr(Product, "class_version", 2)
    product = shop.get_product(mug)
    # then: every event is replayed
    assert events.rows == SNAPSHOT_INTERVAL + 1
    assert (product.stock, product.version) == (5 + SNAPSHOT_INTERVAL, SNAPSHOT_INTERVAL + 1)


def test_snapshots_keep_the_whole_state_of_every_snapshotted_aggregate(shop: Shop) -> None:
    # given: each snapshotted kind past its first snapshot, with keyed dicts and sets in state
    customer, mug = uuid4(), create_product(shop, stock=1000).id
    buy(shop, customer, mug, SNAPSHOT_INTERVAL)
    buy(shop, customer, mug, 3, pay=False)
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=4, context=CONTEXT)
    parents = [add_category(shop, f"Category {n}") for n in range(SNAPSHOT_INTERVAL)]
    add_category(shop, "Child", parent_id=parents[0])
    loaded = [
        shop.get_product(mug),
        shop.cart_of(customer),
        shop.category_tree(),
        shop.purchases_of(customer),
    ]
    # then: each load started from a snapshot, and matches a replay of every event
    for aggregate in loaded:
        assert list(shop.snapshots.get(aggregate.id)), type(aggregate)
        assert vars(aggregate) == vars(rebuilt_from_events(shop, aggregate.id))
    assert loaded[3].id == purchases_id(customer)
    assert loaded[3].products == {mug}


def test_a_snapshot_stored_already_neither_fails_nor_repeats_the_command(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the next add is due for a snapshot, and another process snapshots that version
    # between this command's commit and its own snapshot
    customer, mug = uuid4(), create_product(shop, stock=1000).id
    for _ in range(SNAPSHOT_INTERVAL // 2 - 1):
        shop.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=CONTEXT)
        shop.remove_from_cart(customer_id=customer, product_id=mug, context=CONTEXT)
    assert shop.cart_of(customer).version == SNAPSHOT_INTERVAL - 1
    record = shop.events.put

    def record_then_race(events: Any, **kwargs: Any) -> Any:
        recorded = record(events, **kwargs)
        cart = shop.repository.get(cart_id(customer))
        shop.snapshots.put([StampedSnapshot.take(cart)])
        return recorded

    monkeypatch.setattr(shop.events, "put", record_then_race)
    # when
    saved = shop.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=CONTEXT)
    # then: saved once
    assert (saved.version, saved.lines) == (SNAPSHOT_INTERVAL, {mug: 1})
    assert shop.cart_of(customer).lines == {mug: 1}


def test_cart_commands_answer_with_the_cart_they_saved(shop: Shop) -> None:
    # given
    customer, mug, pot = uuid4(), create_product(shop).id, create_product(shop).id
    # when
    added = shop.add_to_cart(customer_id=customer, product_id=mug, quantity=2, context=CONTEXT)
    more = shop.add_to_cart(customer_id=customer, product_id=pot, quantity=1, context=CONTEXT)
    changed = shop.set_cart_quantity(
        customer_id=customer, product_id=mug, quantity=5, context=CONTEXT
    )
    removed = shop.remove_from_cart(customer_id=customer, product_id=pot, context=CONTEXT)
    # then
    assert {added.id, removed.id} == {cart_id(customer)}
    assert [(r.version, r.lines) for r in (added, more, changed, removed)] == [
        (2, {mug: 2}),
        (3, {mug: 2, pot: 1}),
        (4, {mug: 5, pot: 1}),
        (5, {mug: 5}),
    ]
