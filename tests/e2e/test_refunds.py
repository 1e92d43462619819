"""Refunds end to end: concurrent refunds, an async refund settled by the gateway's webhook,
restocking, and the read model, timeline, audit and event feed showing them."""

from __future__ import annotations

import hashlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.live_stack import LiveStack, eventually
from tests.support.shop_data import ADDRESS
from write_api.payments.webhooks import HEADER, sign

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def paid_order(
    stack: LiveStack, card: str, *, units: int = 5, stock: int = 5
) -> tuple[requests.Session, dict[str, Any], str]:
    """A customer, a product (10.00) and the customer's order of `units`, paid with `card`."""
    w = f"{stack.write_url}/api/v1"
    seller, customer = stack.session("seller"), stack.session("customer")
    product = seller.post(
        f"{w}/products",
        json={"name": "Bowl", "description": "", "price": "10.00", "stock": stock},
        timeout=10,
    ).json()
    customer.post(
        f"{w}/cart/items", json={"product_id": product["id"], "quantity": units}, timeout=10
    )
    order_id = customer.post(
        f"{w}/checkout", json={"shipping_address": ADDRESS}, timeout=10
    ).json()["order_id"]
    customer.post(f"{w}/orders/{order_id}/pay", json={"payment_token": card}, timeout=10)
    r = f"{stack.read_url}/api/v1"
    eventually(lambda: customer.get(f"{r}/orders/{order_id}", timeout=5).json()["status"] == "paid")
    return customer, product, str(order_id)


def read_order(stack: LiveStack, session: requests.Session, order_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = session.get(
        f"{stack.read_url}/api/v1/orders/{order_id}", timeout=5
    ).json()
    return answer


def test_twenty_concurrent_refunds_of_ten_on_fifty_succeed_exactly_five_times(
    live_stack: LiveStack,
) -> None:
    # given
    admin = live_stack.session("admin")
    _, _, order_id = paid_order(live_stack, "tok_ok")
    url = f"{live_stack.write_url}/api/v1/orders/{order_id}/refunds"

    def refund(n: int) -> requests.Response:
        with requests.Session() as session:
            session.headers.update(admin.headers)
            return session.post(url, json={"amount": "10.00", "reason": f"r{n}"}, timeout=60)

    # when
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(refund, range(20)))
    # then
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 5 + [409] * 15, [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "refund_exceeds_captured"
    }
    order = eventually(
        lambda: (o := read_order(live_stack, admin, order_id))["refunded_total"] == "50.00" and o
    )
    assert order["payment_status"] == "refunded"
    assert sorted(r["status"] for r in order["refunds"]) == ["succeeded"] * 5


def test_an_async_refund_is_settled_by_the_gateways_signed_webhook_and_shows_everywhere(
    live_stack: LiveStack,
) -> None:
    # given: a 50.00 order paid through the gateway's async path
    admin = live_stack.session("admin")
    customer, _, order_id = paid_order(live_stack, "tok_async")
    w = f"{live_stack.write_url}/api/v1"
    # when
    answer = admin.post(
        f"{w}/orders/{order_id}/refunds", json={"amount": "15.00", "reason": "late"}, timeout=10
    )
    # then: pending, then settled by the Celery-delivered charge.refunded webhook
    assert (answer.status_code, answer.json()["status"]) == (201, "pending")
    refund_id = answer.json()["id"]
    order = eventually(
        lambda: (
            (o := read_order(live_stack, customer, order_id))["refunds"]
            and o["refunds"][0]["status"] == "succeeded"
            and o
        )
    )
    assert (order["payment_status"], order["refunded_total"]) == ("partially_refunded", "15.00")
    assert [(r["id"], r["amount"], r["reason"]) for r in order["refunds"]] == [
        (refund_id, "15.00", "late")
    ]
    # and: the gateway's event, replayed, is a no-op
    replay = replayed_refund_event(live_stack, order_id, refund_id, "15.00")
    assert replay.json() == {"received": True, "duplicate": True}
    # and: the timeline, the audit log and the v2 feed show each step with its actor
    r1, r2 = f"{live_stack.read_url}/api/v1", f"{live_stack.read_url}/api/v2"
    timeline = eventually(
        lambda: (
            (t := customer.get(f"{r1}/orders/{order_id}/timeline", timeout=5).json()["events"])[-1][
                "type"
            ]
            == "OrderRefundSucceeded"
            and t
        )
    )
    steps = [(e["type"], e["actor"]["role"]) for e in timeline[-3:]]
    assert steps == [
        ("OrderRefundRequested", "admin"),
        ("OrderRefundPending", "admin"),
        ("OrderRefundSucceeded", "payment_gateway"),
    ]
    audit = admin.get(f"{r1}/admin/audit", params={"aggregate_id": order_id}, timeout=5).json()
    assert "OrderRefundRequested" in {e["type"] for e in audit["results"]}
    feed = admin.get(
        f"{r2}/events", params={"type": "OrderRefundRequested", "limit": 1000}, timeout=5
    ).json()
    mine = [e for e in feed["events"] if e["aggregate_id"] == order_id]
    assert [(e["data"]["refund_id"], e["actor"]["role"]) for e in mine] == [(refund_id, "admin")]


def replayed_refund_event(
    stack: LiveStack, order_id: str, refund_id: str, amount: str
) -> requests.Response:
    """The fake gateway's charge.refunded event for this refund, sent again."""
    key = f"order-refund-{refund_id}"
    gateway_refund = "re_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    shop = stack.shop()
    try:
        charge_id = shop.get_order(uuid.UUID(order_id)).charge_id
    finally:
        shop.close()
    body = json.dumps(
        {
            "id": "evt_" + gateway_refund[3:],
            "type": "charge.refunded",
            "data": {
                "refund_id": gateway_refund,
                "charge_id": charge_id,
                "reference": order_id,
                "amount": amount,
                "currency": "USD",
                "metadata": {"refund_id": refund_id, "order_id": order_id},
            },
        }
    ).encode()
    secret = stack.supervisor.base_env["PAYMENT_WEBHOOK_SECRET"]
    return requests.post(
        f"{stack.write_url}/api/v1/payments/webhook",
        data=body,
        headers={"Content-Type": "application/json", HEADER: sign(body, secret)},
        timeout=10,
    )


def test_a_restocking_refund_puts_the_units_back_on_sale(live_stack: LiveStack) -> None:
    # given: 2 of 3 units sold
    admin = live_stack.session("admin")
    _, product, order_id = paid_order(live_stack, "tok_ok", units=2, stock=3)
    r = f"{live_stack.read_url}/api/v1"
    eventually(
        lambda: (
            requests.get(f"{r}/products/{product['id']}", timeout=5).json()["stock_available"] == 1
        )
    )
    # when
    answer = admin.post(
        f"{live_stack.write_url}/api/v1/orders/{order_id}/refunds",
        json={"amount": "20.00", "reason": "returned", "restock": True},
        timeout=10,
    )
    # then
    assert answer.status_code == 201, answer.text
    eventually(
        lambda: (
            requests.get(f"{r}/products/{product['id']}", timeout=5).json()["stock_available"] == 3
        )
    )
