"""Idempotency-Key records: stored with the command's events, so a repeat never acts twice."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django import db

from tests.integration.test_shopping import add, checkout, pay, placed_order, product
from tests.support.actors import Actor
from write_api.application import Shop
from write_api.commands.models import IdempotencyRecord
from write_api.payments.fake_gateway import charges_made

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_checkout_stores_its_response_under_its_key(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    add(customer, product(shop_app, seller, stock=5), 1)
    # when
    placed = checkout(customer, **{"Idempotency-Key": "stored-1"})
    # then
    assert customer.user is not None
    record = IdempotencyRecord.objects.get(user_id=customer.user.id, key="stored-1")
    assert (record.status_code, record.response) == (201, placed.json())
    assert (record.expires_at - record.created_at).total_seconds() == 24 * 3600


def test_a_repeated_key_places_nothing_even_when_the_cart_was_filled_again(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: a checkout under a key, then a new cart
    assert customer.user is not None
    mug = product(shop_app, seller, stock=5)
    add(customer, mug, 1)
    first = checkout(customer, **{"Idempotency-Key": "again-1"})
    add(customer, mug, 2)
    # when: the client retries the first checkout
    again = checkout(customer, **{"Idempotency-Key": "again-1"})
    # then: the first answer, and the new cart neither ordered nor reserved
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 1
    assert shop_app.cart_of(customer.user.id).lines == {uuid.UUID(mug): 2}


@pytest.mark.django_db(transaction=True)
def test_concurrent_pays_with_one_key_charge_once_and_all_get_its_answer(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)

    def once(_: int) -> Any:
        try:
            return pay(customer, order_id, "tok_ok", **{"Idempotency-Key": "pay-race-1"})
        finally:
            db.connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(once, range(4)))
    # then: the later ones waited for the first and replayed its answer
    assert [r.status_code for r in responses] == [200] * 4
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False] + [True] * 3
    assert charges_made(order_id) == 1
    assert [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))] == [
        "Placed",
        "PaymentStarted",
        "PaymentAuthorised",
        "Paid",
    ]
