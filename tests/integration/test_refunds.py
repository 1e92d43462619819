"""Refunds over the write API on the real servers: rules, idempotency, the gateway's webhook."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from processes.refund_resumption import resume_stalled_refunds
from projections.shopping.projector import ShoppingProjector
from tests.integration.test_shopping import currency_changed, pay, placed_order, webhook
from tests.support.actors import Actor, make_actor
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.payments.fake_gateway import FakeGateway
from write_api.payments.fake_refunds import refunded_cents
from write_api.payments.gateway import RefundOutcome, RefundStatus
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def paid_order(shop_app: Shop, customer: Actor, seller: Actor, card: str = "tok_ok") -> str:
    """A 50.00 order of 5 units at 10.00, paid; its charge settled (tok_async too)."""
    order_id = placed_order(shop_app, customer, seller, quantity=5)
    answer = pay(customer, order_id, card)
    if card == "tok_async":
        assert answer.status_code == 202
        order = shop_app.get_order(uuid.UUID(order_id))
        attempt = order.payment_attempt or {}
        settled = webhook(
            customer.client,
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "charge.succeeded",
                "data": {
                    "charge_id": attempt["charge_id"],
                    "reference": order_id,
                    "amount": "50.00",
                    "currency": order.currency,
                    "metadata": {"attempt_id": str(attempt["attempt_id"])},
                },
            },
        )
        assert settled.json()["outcome"] == "applied"
    else:
        assert answer.status_code == 200, answer.content
    return order_id


def refund(actor: Actor, order_id: str, amount: Any = "10.00", **fields: Any) -> Any:
    headers = fields.pop("headers", {})
    body = {"amount": amount, "reason": "damaged in transit", **fields}
    return actor.client.post(
        f"/api/v1/orders/{order_id}/refunds", body, format="json", headers=headers
    )


def events_of(shop_app: Shop, order_id: str) -> list[str]:
    return [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))]


def test_a_tok_ok_charge_is_refunded_at_once_and_partially(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    # when
    response = refund(admin, order_id, "20.00")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["order_id"], body["amount"], body["status"]) == (order_id, "20.00", "succeeded")
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", Decimal("20.00"))
    assert body["version"] == order.version
    assert events_of(shop_app, order_id)[-2:] == ["RefundRequested", "RefundSucceeded"]
    assert refunded_cents(order.charge_id or "") == 2000


def test_refunding_the_rest_leaves_the_order_refunded(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    order_id = paid_order(shop_app, customer, seller)
    assert refund(admin, order_id, "20.00").status_code == 201
    assert refund(admin, order_id, "30.00").status_code == 201
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.payment_status, order.refunded_total) == ("refunded", Decimal("50.00"))


def test_more_than_is_left_is_refused_and_changes_nothing(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    assert refund(admin, order_id, "45.00").status_code == 201
    before = events_of(shop_app, order_id)
    # when
    response = refund(admin, order_id, "5.01")
    # then
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "refund_exceeds_captured",
    )
    assert events_of(shop_app, order_id) == before
    assert refunded_cents(shop_app.get_order(uuid.UUID(order_id)).charge_id or "") == 4500


def test_an_unpaid_order_is_refused(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    order_id = placed_order(shop_app, customer, seller)
    response = refund(admin, order_id, "1.00")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "order_not_paid")


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "1.5", "abc", "1.005", 10, 0, -1, None, ""])
def test_an_amount_that_is_not_positive_with_two_places_is_a_400(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, amount: Any
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    before = events_of(shop_app, order_id)
    # when
    response = refund(admin, order_id, amount)
    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["amount"]
    assert events_of(shop_app, order_id) == before


def test_an_unknown_product_is_a_400_naming_it(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    order_id = paid_order(shop_app, customer, seller)
    stranger = str(uuid.uuid4())
    response = refund(admin, order_id, "1.00", product_ids=[stranger])
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "product_ids": [f"Not a product of this order: {stranger}."]
    }


def test_who_may_refund(shop_app: Shop, customer: Actor, seller: Actor, admin: Actor) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    line = str(next(iter(shop_app.get_order(uuid.UUID(order_id)).quantities)))
    other_seller = make_actor(shop_app, "seller")
    # when / then
    assert refund(customer, order_id).status_code == 403
    assert refund(other_seller, order_id, product_ids=[line]).status_code == 403
    assert refund(make_actor(shop_app, None), order_id).status_code == 401
    assert refund(seller, order_id).status_code == 400  # a seller names its lines
    assert refund(admin, str(uuid.uuid4())).status_code == 404
    own = refund(seller, order_id, "50.00", product_ids=[line])
    assert (own.status_code, own.json()["status"]) == (201, "succeeded")


def test_restock_puts_the_units_back_on_sale(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: 5 of 5 units sold
    order_id = paid_order(shop_app, customer, seller)
    mug = next(iter(shop_app.get_order(uuid.UUID(order_id)).quantities))
    assert shop_app.get_product(mug).available == 0
    # when
    response = refund(admin, order_id, "50.00", restock=True, product_ids=[str(mug)])
    # then
    assert response.status_code == 201
    assert shop_app.get_product(mug).available == 5


def test_an_idempotency_key_replays_the_first_refund(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    key = {"Idempotency-Key": f"refund-{uuid.uuid4()}"}
    # when
    first = refund(admin, order_id, "10.00", headers=key)
    again = refund(admin, order_id, "10.00", headers=key)
    other = refund(admin, order_id, "11.00", headers=key)
    # then
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert shop_app.get_order(uuid.UUID(order_id)).refunded_total == Decimal("10.00")


def refunded_event(shop_app: Shop, order_id: str, refund_id: str) -> dict[str, Any]:
    """What the gateway sends once the pending refund went through (in the order's currency)."""
    order = shop_app.get_order(uuid.UUID(order_id))
    held = order.refunds[uuid.UUID(refund_id)]
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "charge.refunded",
        "data": {
            "refund_id": held["gateway_refund_id"],
            "charge_id": order.charge_id,
            "reference": order_id,
            "amount": str(held["amount"]),
            "currency": order.currency,
            "metadata": {"refund_id": refund_id, "order_id": order_id},
        },
    }


def test_a_tok_async_refund_is_pending_until_its_signed_webhook_settles_it_once(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller, card="tok_async")
    pending = refund(admin, order_id, "15.00")
    assert (pending.status_code, pending.json()["status"]) == (201, "pending")
    assert shop_app.get_order(uuid.UUID(order_id)).payment_status == "paid"
    event = refunded_event(shop_app, order_id, pending.json()["id"])
    # when
    first = webhook(customer.client, event)
    replay = webhook(customer.client, event)
    forged = webhook(customer.client, {**event, "id": "evt_x"}, secret="not-the-secret")
    # then
    assert first.json() == {"received": True, "outcome": "applied"}
    assert replay.json() == {"received": True, "duplicate": True}
    assert forged.status_code == 400
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", Decimal("15.00"))
    assert events_of(shop_app, order_id)[-3:] == [
        "RefundRequested",
        "RefundPending",
        "RefundSucceeded",
    ]


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"amount": "14.00"}, "refused: amount_mismatch"),
        ({"charge_id": "ch_other"}, "refused: unknown_refund"),
        ({"currency": "EUR"}, "refused: currency_mismatch"),
        ({"reference": str(uuid.UUID(int=3))}, "refused: unknown_order"),
    ],
)
def test_a_refund_webhook_that_does_not_match_is_refused_and_changes_nothing(
    shop_app: Shop,
    customer: Actor,
    seller: Actor,
    admin: Actor,
    change: dict[str, Any],
    outcome: str,
) -> None:
    order_id = paid_order(shop_app, customer, seller, card="tok_async")
    pending = refund(admin, order_id, "15.00")
    event = refunded_event(shop_app, order_id, pending.json()["id"])
    event["data"].update(change)
    before = events_of(shop_app, order_id)
    assert webhook(customer.client, event).json() == {"received": True, "outcome": outcome}
    assert events_of(shop_app, order_id) == before


def gateway_refund(shop_app: Shop, order_id: str, refund_id: str) -> RefundOutcome:
    """The refund as the gateway reports it, found by the id the order recorded for it."""
    held = shop_app.get_order(uuid.UUID(order_id)).refunds[uuid.UUID(refund_id)]
    return FakeGateway().retrieve_refund(held["gateway_refund_id"])


def test_an_order_paid_before_the_currency_changed_is_refunded_in_its_own(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, settings: Any
) -> None:
    # given: a 50.00 order paid, then the shop moved to another currency
    order_id = paid_order(shop_app, customer, seller)
    placed_in = currency_changed(settings)
    # when
    response = refund(admin, order_id, "20.00")
    # then
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "succeeded"
    refunded = gateway_refund(shop_app, order_id, response.json()["id"])
    assert (refunded.status, refunded.currency) == (RefundStatus.SUCCEEDED, placed_in)
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.currency, order.refunded_total) == (placed_in, Decimal("20.00"))
    assert refunded_cents(order.charge_id or "") == 2000


def test_a_refund_webhook_is_matched_in_the_order_s_currency_after_the_shop_s_changed(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, settings: Any
) -> None:
    # given: a tok_async order paid, the shop moved to another currency, a refund pending
    order_id = paid_order(shop_app, customer, seller, card="tok_async")
    placed_in = currency_changed(settings)
    pending = refund(admin, order_id, "15.00")
    assert pending.status_code == 201, pending.content
    assert pending.json()["status"] == "pending"
    event = refunded_event(shop_app, order_id, pending.json()["id"])
    in_new_currency = {
        **event,
        "id": f"evt_{uuid.uuid4().hex}",
        "data": {**event["data"], "currency": settings.CURRENCY},
    }
    # when
    refused = webhook(customer.client, in_new_currency)
    applied = webhook(customer.client, event)
    # then: the gateway was asked in the order's currency, and only a notice in it settles
    assert gateway_refund(shop_app, order_id, pending.json()["id"]).currency == placed_in
    assert event["data"]["currency"] == placed_in
    assert refused.json() == {"received": True, "outcome": "refused: currency_mismatch"}
    assert applied.json() == {"received": True, "outcome": "applied"}
    assert shop_app.get_order(uuid.UUID(order_id)).refunded_total == Decimal("15.00")


def test_cancelling_an_order_paid_before_the_currency_changed_refunds_in_its_own(
    shop_app: Shop, customer: Actor, seller: Actor, settings: Any
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    placed_in = currency_changed(settings)
    # when
    cancelled = customer.client.post(f"/api/v1/orders/{order_id}/cancel")
    # then
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    order = shop_app.get_order(uuid.UUID(order_id))
    [held] = order.refunds
    assert gateway_refund(shop_app, order_id, str(held)).currency == placed_in
    assert (order.payment_status, refunded_cents(order.charge_id or "")) == ("refunded", 5000)


def test_the_fake_gateway_refuses_a_refund_in_another_currency_than_its_charge_s(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: a 50.00 charge in the order's currency
    order_id = paid_order(shop_app, customer, seller)
    order = shop_app.get_order(uuid.UUID(order_id))
    other = "EUR" if order.currency != "EUR" else "USD"
    # when
    refused = FakeGateway().refund(
        charge_id=order.charge_id or "",
        amount=Decimal("10.00"),
        currency=other,
        idempotency_key=f"other-currency-{uuid.uuid4()}",
        metadata={},
    )
    # then: nothing was given back, the whole charge is refundable in its own currency
    assert (refused.status, refused.failure_reason, refused.currency) == (
        RefundStatus.FAILED,
        "currency_mismatch",
        other,
    )
    assert refunded_cents(order.charge_id or "") == 0
    assert refund(admin, order_id, "50.00").json()["status"] == "succeeded"


def test_the_fake_gateway_refuses_more_than_a_charge_has_left(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: a 50.00 charge
    order_id = paid_order(shop_app, customer, seller)
    order = shop_app.get_order(uuid.UUID(order_id))
    charge = order.charge_id or ""
    gateway = FakeGateway()

    def give_back(amount: str, key: str) -> Any:
        return gateway.refund(
            charge_id=charge,
            amount=Decimal(amount),
            currency=order.currency,
            idempotency_key=key,
            metadata={},
        )

    # when
    first = give_back("30.00", "k1")
    too_much = give_back("20.01", "k2")
    repeat = give_back("30.00", "k1")
    rest = give_back("20.00", "k3")
    # then
    assert first.status is RefundStatus.SUCCEEDED
    assert (too_much.status, too_much.failure_reason) == (
        RefundStatus.FAILED,
        "amount_exceeds_charge",
    )
    assert repeat == first
    assert rest.status is RefundStatus.SUCCEEDED
    assert refunded_cents(charge) == 5000


def test_cancelling_a_paid_order_gives_the_money_back_and_the_units(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: 5 of 5 units sold, 20.00 refunded already
    order_id = paid_order(shop_app, customer, seller)
    assert refund(admin, order_id, "20.00").status_code == 201
    order = shop_app.get_order(uuid.UUID(order_id))
    mug = next(iter(order.quantities))
    # when
    cancelled = customer.client.post(f"/api/v1/orders/{order_id}/cancel")
    # then
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.payment_status, order.refunded_total) == ("refunded", Decimal("50.00"))
    assert cancelled.json()["version"] == order.version
    assert refunded_cents(order.charge_id or "") == 5000
    assert shop_app.get_product(mug).available == 5
    assert events_of(shop_app, order_id)[-3:] == [
        "Cancelled",
        "RefundRequested",
        "RefundSucceeded",
    ]


def test_a_refund_the_gateway_never_answered_is_resumed_once_under_the_same_key(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: a refund held on the order, then a crash before the gateway was called
    order_id = paid_order(shop_app, customer, seller)
    refund_id = uuid.uuid4()
    shop_app.request_refund(
        uuid.UUID(order_id),
        refund_id=refund_id,
        amount=Decimal("12.00"),
        reason="crashed",
        restock=False,
        product_ids=None,
        seller_id=None,
        context=CommandContext(actor_role="admin"),
    )
    stored = list(shop_app.events.get(uuid.UUID(order_id)))
    ShoppingProjector().apply([to_envelope(e, n) for n, e in enumerate(stored, start=1)])
    # when
    first = resume_stalled_refunds(timedelta(0))
    again = resume_stalled_refunds(timedelta(0))
    # then
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (first, again) == (1, 0)
    assert order.refunds[refund_id]["status"] == "succeeded"
    assert refunded_cents(order.charge_id or "") == 1200
