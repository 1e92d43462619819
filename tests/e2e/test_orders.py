"""A purchase end to end: cart, checkout, async payment by webhook, tracking, fulfilment."""

from __future__ import annotations

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
import requests

from tests.support.live_stack import LiveStack, eventually
from tests.support.shop_data import ADDRESS
from write_api.payments.webhooks import HEADER, sign

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def get(stack: LiveStack, session: requests.Session, path: str) -> Any:
    return session.get(f"{stack.read_url}/api/v1{path}", timeout=5)


def post(stack: LiveStack, session: requests.Session, path: str, body: Any = None) -> Any:
    return session.post(f"{stack.write_url}/api/v1{path}", json=body, timeout=10)


def pending_order(
    stack: LiveStack, customer: requests.Session, name: str, price: str, stock: int
) -> tuple[dict[str, Any], str]:
    """A seller's new product and the customer's unpaid order for one unit of it."""
    product = post(
        stack,
        stack.session("seller"),
        "/products",
        {"name": name, "description": "", "price": price, "stock": stock},
    ).json()
    post(stack, customer, "/cart/items", {"product_id": product["id"], "quantity": 1})
    placed = post(stack, customer, "/checkout", {"shipping_address": ADDRESS}).json()
    return product, placed["order_id"]


def test_a_purchase_is_tracked_from_cart_to_delivery(live_stack: LiveStack) -> None:
    # given
    seller, customer = live_stack.session("seller"), live_stack.session("customer")
    stranger = live_stack.session("customer")
    product = post(
        live_stack,
        seller,
        "/products",
        {"name": "Teapot", "description": "", "price": "24.50", "stock": 3},
    ).json()
    # when: two teapots go into the cart
    post(live_stack, customer, "/cart/items", {"product_id": product["id"], "quantity": 2})
    # The cart shows current names and prices from the catalog projection, which may
    # trail the shopping projection that projected the cart: wait for both.
    cart = eventually(
        lambda: (
            (c := get(live_stack, customer, "/cart").json())["items"]
            and c["items"][0]["name"] is not None
            and c
        )
    )
    # then
    assert cart["items"] == [
        {
            "product_id": product["id"],
            "name": "Teapot",
            "quantity": 2,
            "unit_price": "24.50",
            "line_total": "49.00",
        }
    ]
    assert cart["total"] == "49.00"
    # when: checkout and an asynchronous payment that the gateway settles by webhook
    placed = post(live_stack, customer, "/checkout", {"shipping_address": ADDRESS})
    order_id = placed.json()["order_id"]
    paying = post(live_stack, customer, f"/orders/{order_id}/pay", {"payment_token": "tok_async"})
    # then
    assert (placed.status_code, paying.status_code) == (201, 202)
    paid = eventually(
        lambda: (
            (o := get(live_stack, customer, f"/orders/{order_id}")).status_code == 200
            and o.json()["status"] == "paid"
            and o.json()
        ),
        timeout=30,
    )
    assert [h["status"] for h in paid["status_history"]] == ["pending_payment", "paid"]
    assert paid["status_history"][1]["by_role"] == "payment_gateway"
    assert (paid["total"], paid["shipping_address"]["city"]) == ("49.00", "Springfield")
    assert [i["name"] for i in paid["items"]] == ["Teapot"]
    # when: the seller ships it
    for status in ("processing", "shipped"):
        assert (
            post(live_stack, seller, f"/orders/{order_id}/status", {"status": status}).status_code
            == 200
        )
    # then: each party sees what it may
    shipped = eventually(
        lambda: (
            (o := get(live_stack, customer, f"/orders/{order_id}").json())["status"] == "shipped"
            and o
        )
    )
    assert [h["status"] for h in shipped["status_history"]] == [
        "pending_payment",
        "paid",
        "processing",
        "shipped",
    ]
    assert order_id in [o["id"] for o in get(live_stack, seller, "/orders").json()["results"]]
    assert [o["id"] for o in get(live_stack, customer, "/orders").json()["results"]] == [order_id]
    assert get(live_stack, stranger, f"/orders/{order_id}").status_code == 404
    admin = live_stack.session("admin")
    assert get(live_stack, admin, f"/orders/{order_id}").json()["status"] == "shipped"
    assert get(live_stack, stranger, "/orders").json()["count"] == 0
    assert requests.get(f"{live_stack.read_url}/api/v1/orders", timeout=5).status_code == 401
    assert eventually(lambda: get(live_stack, customer, "/cart").json()["items"] == [])
    # when: the buyer reviews the teapot
    reviewed = post(
        live_stack,
        customer,
        f"/products/{product['id']}/reviews",
        {"rating": 4, "comment": "Pours well"},
    )
    # then: the rating reaches product detail, search and the review list
    assert reviewed.status_code == 201
    rated = eventually(
        lambda: (
            (p := get(live_stack, customer, f"/products/{product['id']}").json())["rating"]["count"]
            == 1
            and p
        )
    )
    assert rated["rating"] == {"average": "4.00", "count": 1}
    found = eventually(
        lambda: (
            (r := get(live_stack, customer, "/products?search=Teapot&page_size=100").json())
            and [p for p in r["results"] if p["id"] == product["id"] and p["rating"]["count"] == 1]
        )
    )
    assert found[0]["rating"] == {"average": "4.00", "count": 1}
    reviews = get(live_stack, customer, f"/products/{product['id']}/reviews").json()
    assert [(r["rating"], r["comment"]) for r in reviews["results"]] == [(4, "Pours well")]


def test_an_unpaid_order_expires_and_its_stock_returns(live_stack: LiveStack) -> None:
    # given: an order holding the only unit
    customer = live_stack.session("customer")
    product, order_id = pending_order(live_stack, customer, "Rare vase", "80.00", stock=1)
    eventually(lambda: get(live_stack, customer, f"/orders/{order_id}").status_code == 200)
    # when: the expiry scan runs with the payment window already over
    output = live_stack.manage("expire_unpaid_orders", "--timeout", "0")
    # then: a progress line (the output is a pipe), then the summary
    *progress, summary = output.strip().splitlines()
    assert summary == "expired 1 orders"
    assert [line.split(",")[0] for line in progress] == ["expire: 1/1 orders"]
    cancelled = eventually(
        lambda: (
            (o := get(live_stack, customer, f"/orders/{order_id}").json())["status"] == "cancelled"
            and o
        )
    )
    assert cancelled["status_history"][-1]["by_role"] == "system"
    assert eventually(
        lambda: (
            get(live_stack, customer, f"/products/{product['id']}").json()["stock_available"] == 1
        )
    )
    late = post(live_stack, customer, f"/orders/{order_id}/pay", {"payment_token": "tok_ok"})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "illegal_transition")


def test_the_stack_verifies_webhooks_with_its_generated_secret_not_the_source_constant(
    live_stack: LiveStack,
) -> None:
    # given: the secret the launcher generated and handed to every process of the stack
    secret = live_stack.supervisor.base_env["PAYMENT_WEBHOOK_SECRET"]
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "charge.updated"}).encode()
    url = f"{live_stack.write_url}/api/v1/payments/webhook"

    def deliver(signed_with: str) -> requests.Response:
        headers = {"Content-Type": "application/json", HEADER: sign(body, signed_with)}
        return requests.post(url, data=body, headers=headers, timeout=10)

    # when
    with_constant = deliver("whsec_development_only")
    with_generated = deliver(secret)
    # then
    assert secret.startswith("whsec_")
    assert secret != "whsec_development_only"
    assert (with_constant.status_code, with_constant.json()["error"]["code"]) == (
        400,
        "validation_error",
    )
    assert (with_generated.status_code, with_generated.json()) == (
        200,
        {"received": True, "outcome": "ignored"},
    )


@pytest.mark.slow
def test_eight_concurrent_pays_on_the_live_stack_make_one_gateway_charge(
    live_stack: LiveStack,
) -> None:
    # given: a pending order of 15.00
    customer = live_stack.session("customer")
    _, order_id = pending_order(live_stack, customer, "Jug", "15.00", stock=2)
    # when: eight payers at once, across the API's worker processes
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(
                lambda _: post(
                    live_stack, customer, f"/orders/{order_id}/pay", {"payment_token": "tok_ok"}
                ),
                range(8),
            )
        )
    # then: one charge at the gateway, one attempt on the order
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    ledger = redis.Redis.from_url(os.environ["REDIS_URL"])
    charges = ledger.get(f"{live_stack.namespace}:1:fake-gateway:charges:{order_id}")
    assert int(charges or 0) == 1
    store = live_stack.shop()  # kept: its connection pool closes with it
    kinds = [type(e).__name__ for e in store.events.get(uuid.UUID(order_id))]
    assert kinds == ["Placed", "PaymentStarted", "PaymentAuthorised", "Paid"]
