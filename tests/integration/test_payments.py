"""Money checked: signed webhooks validated like user input, one charge in flight per order."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django import db

from tests.integration.test_shopping import (
    currency_changed,
    pay,
    placed_order,
    settle_event,
    webhook,
)
from tests.support.actors import Actor
from write_api.application import Shop
from write_api.commands.models import GatewayEvent, IdempotencyRecord
from write_api.domain.errors import ConcurrentChange
from write_api.paying import gateway_key
from write_api.payments.fake_gateway import FakeGateway, charges_made
from write_api.payments.inbox import receive_once
from write_api.payments.notices import parse_gateway_event

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def kinds(shop_app: Shop, order_id: str) -> list[str]:
    return [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))]


def pending_order(shop_app: Shop, customer: Actor, seller: Actor) -> str:
    """An order of 20.00 whose charge is pending at the gateway."""
    order_id = placed_order(shop_app, customer, seller)
    assert pay(customer, order_id, "tok_async").status_code == 202
    return order_id


def test_a_signed_settlement_of_the_started_charge_pays_the_order(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = pending_order(shop_app, customer, seller)
    event = settle_event(shop_app, order_id)
    # when
    response = webhook(customer.client, event)
    # then
    assert (response.status_code, response.json()) == (
        200,
        {"received": True, "outcome": "applied"},
    )
    assert shop_app.get_order(uuid.UUID(order_id)).status == "paid"
    assert GatewayEvent.objects.get(event_id=event["id"]).outcome == "applied"


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"amount": "0.01"}, "refused: amount_mismatch"),
        ({"amount": "25.00"}, "refused: amount_mismatch"),
        ({"currency": "EUR"}, "refused: currency_mismatch"),
        ({"charge_id": "ch_someone_elses"}, "refused: unknown_charge"),
        ({"metadata": {"attempt_id": str(uuid.UUID(int=5))}}, "refused: unknown_charge"),
        ({"reference": str(uuid.UUID(int=9))}, "refused: unknown_order"),
    ],
)
def test_a_signed_webhook_that_does_not_match_its_order_is_recorded_refused_and_changes_nothing(
    shop_app: Shop, customer: Actor, seller: Actor, change: dict[str, Any], outcome: str
) -> None:
    # given: a 20.00 order with its charge pending
    order_id = pending_order(shop_app, customer, seller)
    event = settle_event(shop_app, order_id)
    event["data"].update(change)
    before = kinds(shop_app, order_id)
    # when
    response = webhook(customer.client, event)
    replay = webhook(customer.client, event)
    # then
    assert (response.status_code, response.json()) == (
        200,
        {"received": True, "outcome": outcome},
    )
    assert replay.json() == {"received": True, "duplicate": True}
    record = GatewayEvent.objects.get(event_id=event["id"])
    assert (record.type, record.outcome) == ("charge.succeeded", outcome)
    assert kinds(shop_app, order_id) == before
    assert shop_app.get_order(uuid.UUID(order_id)).status == "pending_payment"


def started_currencies(shop_app: Shop, order_id: str) -> list[tuple[str, str | None]]:
    """For each attempt the order started: the currency it recorded, and the one the gateway
    authorised its charge in (None if the gateway never saw it)."""
    pairs = []
    for event in shop_app.events.get(uuid.UUID(order_id)):
        if type(event).__name__ == "PaymentStarted":
            charge = FakeGateway().retrieve(gateway_key(event.attempt_id))  # type: ignore[attr-defined]
            pairs.append((event.currency, charge.currency if charge else None))  # type: ignore[attr-defined]
    return pairs


def test_an_order_placed_before_the_currency_changed_is_charged_in_its_own(
    shop_app: Shop, customer: Actor, seller: Actor, settings: Any
) -> None:
    # given: an order placed, then the shop moved to another currency
    order_id = placed_order(shop_app, customer, seller)
    placed_in = currency_changed(settings)
    # when
    response = pay(customer, order_id, "tok_ok")
    # then
    assert (response.status_code, response.json()["status"]) == (200, "paid")
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.status, order.currency) == ("paid", placed_in)
    assert started_currencies(shop_app, order_id) == [(placed_in, placed_in)]


def test_a_webhook_is_matched_in_the_order_s_currency_after_the_shop_s_changed(
    shop_app: Shop, customer: Actor, seller: Actor, settings: Any
) -> None:
    # given: an order placed, the shop moved to another currency, then a pending charge
    order_id = placed_order(shop_app, customer, seller)
    placed_in = currency_changed(settings)
    assert pay(customer, order_id, "tok_async").status_code == 202
    event = settle_event(shop_app, order_id)
    in_new_currency = {
        **event,
        "id": f"evt_{uuid.uuid4().hex}",
        "data": {**event["data"], "currency": settings.CURRENCY},
    }
    # when
    refused = webhook(customer.client, in_new_currency)
    applied = webhook(customer.client, event)
    # then: the gateway charged the order's currency, and only a notice in it pays the order
    assert started_currencies(shop_app, order_id) == [(placed_in, placed_in)]
    assert event["data"]["currency"] == placed_in
    assert refused.json() == {"received": True, "outcome": "refused: currency_mismatch"}
    assert applied.json() == {"received": True, "outcome": "applied"}
    assert kinds(shop_app, order_id) == ["Placed", "PaymentStarted", "PaymentPending", "Paid"]


def test_a_charge_of_another_order_does_not_pay_this_one(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: two pending orders of the same amount
    mine = pending_order(shop_app, customer, seller)
    other = pending_order(shop_app, customer, seller)
    event = settle_event(shop_app, other)
    event["data"]["reference"] = mine
    # when
    response = webhook(customer.client, event)
    # then
    assert response.json()["outcome"] == "refused: unknown_charge"
    statuses = {shop_app.get_order(uuid.UUID(o)).status for o in (mine, other)}
    assert statuses == {"pending_payment"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"charge_id": "ch_\u0000evil"}, "data.charge_id"),
        ({"reason": "insufficient\u0000funds"}, "data.reason"),
        ({"charge_id": "c" * 300}, "data.charge_id"),
        ({"amount": None}, "data.amount"),
    ],
)
@pytest.mark.parametrize("kind", ["charge.succeeded", "charge.failed"])
def test_a_signed_webhook_with_a_nul_or_unbounded_field_is_400_and_nothing_is_stored(
    shop_app: Shop, customer: Actor, seller: Actor, change: dict[str, Any], field: str, kind: str
) -> None:
    # given
    order_id = pending_order(shop_app, customer, seller)
    event = {**settle_event(shop_app, order_id), "type": kind}
    event["data"].update(change)
    before = kinds(shop_app, order_id)
    # when
    response = webhook(customer.client, event)
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == [field]
    assert not GatewayEvent.objects.filter(event_id=event["id"]).exists()
    assert kinds(shop_app, order_id) == before


def test_a_signed_webhook_with_a_nul_in_its_event_id_is_400_and_nothing_is_stored(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    order_id = pending_order(shop_app, customer, seller)
    event = {**settle_event(shop_app, order_id), "id": "evt_\u0000"}
    response = webhook(customer.client, event)
    assert (response.status_code, list(response.json()["error"]["details"])) == (400, ["id"])
    assert GatewayEvent.objects.count() == 0
    assert shop_app.get_order(uuid.UUID(order_id)).status == "pending_payment"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("keys", ["none", "one per caller"])
def test_eight_concurrent_pays_start_one_gateway_charge(
    shop_app: Shop, customer: Actor, seller: Actor, keys: str
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)

    def once(n: int) -> Any:
        headers = {} if keys == "none" else {"Idempotency-Key": f"race-{n}"}
        try:
            return pay(customer, order_id, "tok_ok", **headers)
        finally:
            db.connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(once, range(8)))
    # then
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert codes <= {"payment_in_progress", "illegal_transition"}
    assert charges_made(order_id) == 1
    assert kinds(shop_app, order_id) == ["Placed", "PaymentStarted", "PaymentAuthorised", "Paid"]


def test_payment_in_progress_is_not_stored_as_the_idempotency_keys_answer(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: a charge pending at the gateway
    order_id = pending_order(shop_app, customer, seller)
    # when
    busy = pay(customer, order_id, "tok_ok", **{"Idempotency-Key": "busy-1"})
    # then: a retry with the key may still act once the attempt ends
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "payment_in_progress")
    assert not IdempotencyRecord.objects.filter(key="busy-1").exists()
    assert charges_made(order_id) == 1


def test_an_error_while_applying_records_nothing_so_the_gateway_delivers_it_again(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = pending_order(shop_app, customer, seller)
    event = settle_event(shop_app, order_id)
    notice = parse_gateway_event(json.dumps(event).encode())

    def lost_race() -> str:
        raise ConcurrentChange("changed too often")

    # when
    with pytest.raises(ConcurrentChange):
        receive_once(notice, lost_race)
    retried = webhook(customer.client, event)
    # then
    assert retried.json() == {"received": True, "outcome": "applied"}
    assert GatewayEvent.objects.get(event_id=event["id"]).outcome == "applied"
