"""Cart, checkout, payment, cancellation and fulfilment over the write API."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django import db
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from tests.support.actors import Actor, make_actor
from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.commands.models import IdempotencyRecord
from write_api.domain.metadata import CommandContext
from write_api.payments.fake_gateway import charges_made
from write_api.payments.webhooks import HEADER, sign

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def product(shop_app: Shop, seller: Actor, stock: int = 5, price: str = "10.00") -> str:
    saved = create_product(
        shop_app,
        name=f"P {uuid.uuid4().hex[:6]}",
        description="",
        price=Decimal(price),
        stock=stock,
        seller_id=seller.user.id,
        context=CommandContext(),  # type: ignore[union-attr]
    )
    return str(saved.id)


def add(actor: Actor, product_id: str, quantity: int) -> Any:
    return actor.client.post(
        "/api/v1/cart/items", {"product_id": product_id, "quantity": quantity}, format="json"
    )


def checkout(actor: Actor, **headers: str) -> Any:
    return actor.client.post(
        "/api/v1/checkout", {"shipping_address": ADDRESS}, format="json", headers=headers
    )


def placed_order(shop_app: Shop, customer: Actor, seller: Actor, quantity: int = 2) -> str:
    assert add(customer, product(shop_app, seller), quantity).status_code == 200
    response = checkout(customer)
    assert response.status_code == 201, response.content
    return str(response.json()["order_id"])


def currency_changed(settings: Any) -> str:
    """The operator moves the shop to another CURRENCY (USD to EUR, say); returns the one
    orders placed before the change are in."""
    before: str = settings.CURRENCY
    settings.CURRENCY = "EUR" if before != "EUR" else "USD"
    return before


def pay(actor: Actor, order_id: str, token: str, **headers: str) -> Any:
    return actor.client.post(
        f"/api/v1/orders/{order_id}/pay", {"payment_token": token}, format="json", headers=headers
    )


def test_cart_lines_add_change_and_remove(shop_app: Shop, customer: Actor, seller: Actor) -> None:
    # given
    mug = product(shop_app, seller)
    # when
    first = add(customer, mug, 2)
    second = add(customer, mug, 1)
    changed = customer.client.patch(f"/api/v1/cart/items/{mug}", {"quantity": 7}, format="json")
    removed = customer.client.delete(f"/api/v1/cart/items/{mug}")
    # then
    assert first.json()["items"] == [{"product_id": mug, "quantity": 2}]
    assert second.json()["items"] == [{"product_id": mug, "quantity": 3}]
    assert changed.json()["items"] == [{"product_id": mug, "quantity": 7}]
    assert removed.json()["items"] == []
    assert removed.json()["version"] == 5


def test_cart_refusals(shop_app: Shop, customer: Actor, seller: Actor) -> None:
    # given
    mug, gone = product(shop_app, seller), product(shop_app, seller)
    shop_app.discontinue_product(uuid.UUID(gone), context=CommandContext())
    # when / then
    assert add(customer, str(uuid.uuid4()), 1).status_code == 404
    assert add(customer, gone, 1).status_code == 404
    assert add(customer, mug, 0).status_code == 400
    assert add(customer, mug, 100).status_code == 400
    assert add(seller, mug, 1).status_code == 403
    assert (
        customer.client.patch(
            f"/api/v1/cart/items/{mug}", {"quantity": 1}, format="json"
        ).status_code
        == 404
    )
    assert shop_app.cart_of(customer.user.id).lines == {}  # type: ignore[union-attr]


def test_checkout_places_the_order_and_refuses_an_empty_cart(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    mug = product(shop_app, seller, stock=5, price="12.50")
    add(customer, mug, 2)
    # when
    placed = checkout(customer)
    empty = checkout(customer)
    # then
    assert placed.status_code == 201
    assert (placed.json()["status"], placed.json()["total"]) == ("pending_payment", "25.00")
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "cart_empty")
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 2


def test_checkout_names_the_products_out_of_stock(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    mug = product(shop_app, seller, stock=1)
    add(customer, mug, 3)
    response = checkout(customer)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "out_of_stock")
    assert response.json()["error"]["details"] == {
        "products": {mug: {"requested": 3, "available": 1}}
    }
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 0


def test_checkout_with_an_idempotency_key_acts_once(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    mug = product(shop_app, seller, stock=5)
    add(customer, mug, 2)
    # when
    first = checkout(customer, **{"Idempotency-Key": "chk-1"})
    again = checkout(customer, **{"Idempotency-Key": "chk-1"})
    other_body = customer.client.post(
        "/api/v1/checkout",
        {"shipping_address": {**ADDRESS, "city": "Shelbyville"}},
        format="json",
        headers={"Idempotency-Key": "chk-1"},
    )
    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert (other_body.status_code, other_body.json()["error"]["code"]) == (
        422,
        "idempotency_key_reused",
    )
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 2


def test_idempotency_keys_belong_to_one_user(shop_app: Shop, seller: Actor) -> None:
    ann, bob = make_actor(shop_app, "customer"), make_actor(shop_app, "customer")
    mug = product(shop_app, seller, stock=5)
    add(ann, mug, 1)
    add(bob, mug, 1)
    assert checkout(ann, **{"Idempotency-Key": "same"}).status_code == 201
    assert checkout(bob, **{"Idempotency-Key": "same"}).status_code == 201
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 2


def test_a_refusal_is_replayed_too(shop_app: Shop, customer: Actor) -> None:
    first = checkout(customer, **{"Idempotency-Key": "empty-1"})
    again = checkout(customer, **{"Idempotency-Key": "empty-1"})
    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json()["error"]["code"] == "cart_empty"


def test_paying_captures_and_turns_the_reservation_into_a_sale(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller, quantity=2)
    # when
    response = pay(customer, order_id, "tok_ok")
    # then
    assert (response.status_code, response.json()["status"]) == (200, "paid")
    order = shop_app.get_order(uuid.UUID(order_id))
    [line] = order.lines
    sold = shop_app.get_product(line["product_id"])
    assert (order.status, sold.stock, sold.reserved) == ("paid", 3, 0)
    assert pay(customer, order_id, "tok_ok").status_code == 409


def test_a_declined_payment_keeps_the_order_payable(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)
    # when
    declined = pay(customer, order_id, "tok_declined")
    retried = pay(customer, order_id, "tok_ok")
    # then
    assert (declined.status_code, declined.json()["error"]["code"]) == (402, "payment_declined")
    assert retried.status_code == 200
    kinds = [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))]
    assert kinds == [
        "Placed",
        "PaymentStarted",
        "PaymentFailed",
        "PaymentStarted",
        "PaymentAuthorised",
        "Paid",
    ]


@pytest.mark.parametrize(
    ("token", "status", "outcome"),
    [("tok_ok", 200, ["PaymentAuthorised", "Paid"]), ("tok_declined", 402, ["PaymentFailed"])],
)
def test_pay_with_an_idempotency_key_charges_once(
    shop_app: Shop, customer: Actor, seller: Actor, token: str, status: int, outcome: list[str]
) -> None:
    order_id = placed_order(shop_app, customer, seller)
    first = pay(customer, order_id, token, **{"Idempotency-Key": "pay-1"})
    again = pay(customer, order_id, token, **{"Idempotency-Key": "pay-1"})
    assert (first.status_code, again.status_code, again.json()) == (status, status, first.json())
    kinds = [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))]
    assert kinds == ["Placed", "PaymentStarted", *outcome]
    # a declined charge is an answer too: the repeat did not call the gateway again
    assert charges_made(order_id) == 1


def test_only_the_owner_pays_and_others_see_no_such_order(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    order_id = placed_order(shop_app, customer, seller)
    stranger = make_actor(shop_app, "customer")
    assert pay(stranger, order_id, "tok_ok").status_code == 404
    assert pay(seller, order_id, "tok_ok").status_code == 403


def webhook(
    client: Any,
    event: dict[str, Any],
    *,
    secret: str | None = None,
    at: int | None = None,
    body: bytes | None = None,
) -> Any:
    raw = json.dumps(event).encode()
    signature = sign(raw, secret or settings.PAYMENT_WEBHOOK_SECRET, at)
    return client.post(
        "/api/v1/payments/webhook",
        body if body is not None else raw,
        content_type="application/json",
        headers={HEADER: signature},
    )


def deliver(actor: Actor, event: dict[str, Any]) -> Any:
    """One delivery from its own thread and database connection, closed afterwards."""
    try:
        return webhook(actor.client, event)
    finally:
        db.connections.close_all()


def settle_event(shop_app: Shop, order_id: str) -> dict[str, Any]:
    """What the gateway sends when the order's pending charge (if any) is captured: in the
    currency it was charged in, the order's."""
    order = shop_app.get_order(uuid.UUID(order_id))
    attempt = order.payment_attempt or {}
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "charge.succeeded",
        "data": {
            "charge_id": attempt.get("charge_id") or "ch_async",
            "reference": order_id,
            "amount": "20.00",
            "currency": order.currency,
            "metadata": {"attempt_id": str(attempt.get("attempt_id", uuid.UUID(int=0)))},
        },
    }


def test_async_payment_is_settled_by_a_signed_webhook_applied_once(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)
    pending = pay(customer, order_id, "tok_async")
    event = settle_event(shop_app, order_id)
    # when
    first = webhook(customer.client, event)
    replay = webhook(customer.client, event)
    # then
    assert (pending.status_code, pending.json()["status"]) == (202, "payment_pending")
    assert (first.status_code, first.json()["outcome"]) == (200, "applied")
    assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
    kinds = [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))]
    assert kinds == ["Placed", "PaymentStarted", "PaymentPending", "Paid"]


@pytest.mark.parametrize("attack", ["forged", "tampered", "stale", "future", "unsigned", "garbage"])
def test_a_bad_webhook_is_400_and_changes_nothing(
    shop_app: Shop, customer: Actor, seller: Actor, attack: str
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)
    event = settle_event(shop_app, order_id)
    now = int(time.time())
    # when
    if attack == "forged":
        response = webhook(customer.client, event, secret="whsec_not_ours")
    elif attack == "tampered":
        response = webhook(
            customer.client, event, body=json.dumps({**event, "id": "evt_other"}).encode()
        )
    elif attack == "stale":
        response = webhook(customer.client, event, at=now - 3600)
    elif attack == "future":
        response = webhook(customer.client, event, at=now + 3600)
    elif attack == "unsigned":
        response = customer.client.post("/api/v1/payments/webhook", event, format="json")
    else:
        response = webhook(customer.client, {"nonsense": True})
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert shop_app.get_order(uuid.UUID(order_id)).status == "pending_payment"


def test_cancelling_releases_stock_and_only_owner_or_admin_may(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller, quantity=2)
    stranger, admin = make_actor(shop_app, "customer"), make_actor(shop_app, "admin")
    path = f"/api/v1/orders/{order_id}/cancel"
    # when
    by_stranger = stranger.client.post(path)
    by_seller = seller.client.post(path)
    by_owner = customer.client.post(path)
    again = admin.client.post(path)
    # then
    assert (by_stranger.status_code, by_seller.status_code) == (404, 404)
    assert (by_owner.status_code, by_owner.json()["status"]) == (200, "cancelled")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "illegal_transition")
    [line] = shop_app.get_order(uuid.UUID(order_id)).lines
    assert shop_app.get_product(line["product_id"]).reserved == 0


def test_the_seller_of_every_line_moves_the_order_through_fulfilment(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)
    other = make_actor(shop_app, "seller")
    path = f"/api/v1/orders/{order_id}/status"
    # when / then
    early = seller.client.post(path, {"status": "shipped"}, format="json")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "illegal_transition")
    pay(customer, order_id, "tok_ok")
    assert other.client.post(path, {"status": "processing"}, format="json").status_code == 404
    assert customer.client.post(path, {"status": "processing"}, format="json").status_code == 403
    for status in ("processing", "shipped", "delivered"):
        response = seller.client.post(path, {"status": status}, format="json")
        assert (response.status_code, response.json()["status"]) == (200, status)
    assert seller.client.post(path, {"status": "bogus"}, format="json").status_code == 400
    assert customer.client.post(f"/api/v1/orders/{order_id}/cancel").status_code == 409


def test_a_seller_sharing_an_order_with_another_seller_may_not_move_it_and_nothing_changes(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: a paid order with one line of each of two sellers
    other = make_actor(shop_app, "seller")
    assert add(customer, product(shop_app, seller), 1).status_code == 200
    assert add(customer, product(shop_app, other), 1).status_code == 200
    placed = checkout(customer)
    order_id = placed.json()["order_id"]
    assert pay(customer, order_id, "tok_ok").status_code == 200
    before = shop_app.get_order(uuid.UUID(order_id)).version
    stranger = make_actor(shop_app, "seller")
    path = f"/api/v1/orders/{order_id}/status"
    # when
    shared = seller.client.post(path, {"status": "processing"}, format="json")
    unrelated = stranger.client.post(path, {"status": "processing"}, format="json")
    # then
    assert (shared.status_code, shared.json()["error"]["code"]) == (403, "permission_denied")
    assert shared.json()["error"]["message"] == "Another seller also has lines in this order."
    assert (unrelated.status_code, unrelated.json()["error"]["message"]) == (
        404,
        f"Order {order_id} does not exist.",
    )
    after = shop_app.get_order(uuid.UUID(order_id))
    assert (after.version, after.status) == (before, "paid")


@override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"cart": "3/min", "checkout": "2/min", "auth": "2/min"},
    }
)
def test_cart_checkout_and_login_are_rate_limited_with_retry_after(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    original_rates = SimpleRateThrottle.THROTTLE_RATES
    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    cache.delete_pattern("throttle_auth_*")  # the test client's IP is the same every run
    try:
        mug = product(shop_app, seller)
        statuses = [add(customer, mug, 1).status_code for _ in range(4)]
        checkouts = [checkout(customer).status_code for _ in range(3)]
        logins = [
            customer.client.post(
                "/api/v1/auth/token",
                {"email": "x@example.com", "password": "x" * 12},
                format="json",
            )
            for _ in range(3)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original_rates
    assert statuses == [200, 200, 200, 429]
    assert checkouts[2] == 429
    assert [r.status_code for r in logins] == [401, 401, 429]
    assert logins[2].json()["error"]["code"] == "throttled"
    assert int(logins[2]["Retry-After"]) > 0


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_of_one_webhook_pay_once(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = placed_order(shop_app, customer, seller)
    assert pay(customer, order_id, "tok_async").status_code == 202
    event = settle_event(shop_app, order_id)
    # when
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: deliver(customer, event), range(5)))
    # then
    assert [r.status_code for r in responses] == [200] * 5
    assert sum(r.json().get("outcome") == "applied" for r in responses) == 1
    kinds = [type(e).__name__ for e in shop_app.events.get(uuid.UUID(order_id))]
    assert kinds == ["Placed", "PaymentStarted", "PaymentPending", "Paid"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_with_one_idempotency_key_place_one_order(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    mug = product(shop_app, seller, stock=10)
    add(customer, mug, 2)

    def once(_: int) -> Any:
        try:
            return checkout(customer, **{"Idempotency-Key": "race-1"})
        finally:
            db.connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(once, range(5)))
    # then
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 2


# The aged record must be committed: the checkout checks keys on the event store's connection.
@pytest.mark.django_db(transaction=True)
def test_an_idempotency_key_expires_after_24_hours(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: a key used a day ago
    mug = product(shop_app, seller, stock=5)
    add(customer, mug, 1)
    assert checkout(customer, **{"Idempotency-Key": "old-1"}).status_code == 201
    IdempotencyRecord.objects.filter(key="old-1").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    add(customer, mug, 1)
    # when: the same key comes with another request
    response = customer.client.post(
        "/api/v1/checkout",
        {"shipping_address": {**ADDRESS, "city": "Ogdenville"}},
        format="json",
        headers={"Idempotency-Key": "old-1"},
    )
    # then: it is a new request, not a reuse
    assert response.status_code == 201
    assert shop_app.get_product(uuid.UUID(mug)).reserved == 2
