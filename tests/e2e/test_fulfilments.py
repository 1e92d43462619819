"""A two-seller order on the running stack: each seller ships and delivers its own lines."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.live_stack import LiveStack, eventually
from tests.support.shop_data import ADDRESS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def post(stack: LiveStack, session: requests.Session, path: str, body: Any = None) -> Any:
    return session.post(f"{stack.write_url}/api/v1{path}", json=body, timeout=10)


def read(stack: LiveStack, session: requests.Session, path: str, **params: Any) -> Any:
    version = "v2" if path.startswith("/events") or "as_of" in params else "v1"
    response = session.get(f"{stack.read_url}/api/{version}{path}", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def me(stack: LiveStack, session: requests.Session) -> str:
    user_id: str = session.get(f"{stack.write_url}/api/v1/auth/me", timeout=5).json()["id"]
    return user_id


def offer(stack: LiveStack, seller: requests.Session, name: str, price: str) -> str:
    body = {"name": name, "description": "", "price": price, "stock": 5}
    product: str = post(stack, seller, "/products", body).json()["id"]
    return product


def order_in_status(
    stack: LiveStack, session: requests.Session, order_id: str, status: str
) -> dict[str, Any]:
    """The order once its read model shows `status` (404 until the projector has it)."""

    def current() -> dict[str, Any] | None:
        response = session.get(f"{stack.read_url}/api/v1/orders/{order_id}", timeout=5)
        order: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return order if order is not None and order["status"] == status else None

    return eventually(current)  # type: ignore[no-any-return]


def test_a_two_seller_order_is_shipped_and_delivered_by_both_sellers(
    live_stack: LiveStack,
) -> None:
    # given: a paid order of seller A's mug and seller B's lamp
    seller_a, seller_b = live_stack.session("seller"), live_stack.session("seller")
    customer, admin = live_stack.session("customer"), live_stack.session("admin")
    mug = offer(live_stack, seller_a, "Fulfil mug", "12.00")
    lamp = offer(live_stack, seller_b, "Fulfil lamp", "40.00")
    for product_id in (mug, lamp):
        post(live_stack, customer, "/cart/items", {"product_id": product_id, "quantity": 1})
    order_id = post(live_stack, customer, "/checkout", {"shipping_address": ADDRESS}).json()[
        "order_id"
    ]
    paid = post(live_stack, customer, f"/orders/{order_id}/pay", {"payment_token": "tok_ok"})
    assert paid.status_code == 200, paid.text
    path = f"/orders/{order_id}/fulfilments"
    # when: seller B tries to ship A's mug
    refused = post(live_stack, seller_b, path, {"product_ids": [mug]})
    # then
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_your_line")
    # when: A ships the mug
    a_parcel = post(
        live_stack,
        seller_a,
        path,
        {"product_ids": [mug], "carrier": "DHL", "tracking_number": "1Z"},
    )
    # then: the order is not shipped until B has shipped too
    assert a_parcel.status_code == 201, a_parcel.text
    assert (a_parcel.json()["status"], a_parcel.json()["order_status"]) == ("shipped", "processing")
    order_in_status(live_stack, customer, order_id, "processing")
    b_parcel = post(live_stack, seller_b, path, {"product_ids": [lamp]})
    assert (b_parcel.status_code, b_parcel.json()["order_status"]) == (201, "shipped")
    order_in_status(live_stack, customer, order_id, "shipped")
    # when: both parcels arrive
    a_id, b_id = a_parcel.json()["id"], b_parcel.json()["id"]
    first = post(live_stack, seller_a, f"{path}/{a_id}/deliver")
    twice = post(live_stack, seller_a, f"{path}/{a_id}/deliver")
    b_by_a = post(live_stack, seller_a, f"{path}/{b_id}/deliver")
    second = post(live_stack, seller_b, f"{path}/{b_id}/deliver")
    # then: delivered only after the second
    assert (first.status_code, first.json()["order_status"]) == (200, "shipped")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_delivered")
    assert b_by_a.status_code == 403
    assert (second.status_code, second.json()["order_status"]) == (200, "delivered")
    seen = order_in_status(live_stack, customer, order_id, "delivered")
    # the customer sees every line and both parcels
    assert [h["status"] for h in seen["status_history"]] == [
        "pending_payment",
        "paid",
        "processing",
        "shipped",
        "delivered",
    ]
    assert {i["product_id"] for i in seen["items"]} == {mug, lamp}
    assert (seen["total"], seen["subtotal"]) == ("52.00", "52.00")
    assert {
        f["id"]: (f["product_ids"], f["status"], f["carrier"], f["tracking_number"])
        for f in seen["fulfilments"]
    } == {
        a_id: ([mug], "delivered", "DHL", "1Z"),
        b_id: ([lamp], "delivered", None, None),
    }
    # each seller sees only its own line, price, subtotal and parcel
    as_a = read(live_stack, seller_a, f"/orders/{order_id}")
    assert [(i["product_id"], i["unit_price"]) for i in as_a["items"]] == [(mug, "12.00")]
    assert (as_a["total"], as_a["subtotal"]) == ("12.00", "12.00")
    assert [f["id"] for f in as_a["fulfilments"]] == [a_id]
    assert as_a["shipping_address"] == seen["shipping_address"]
    rows = read(live_stack, seller_b, "/orders")["results"]
    assert [(r["id"], r["total"]) for r in rows] == [(order_id, "40.00")]
    # every step is in the timeline, the audit log and the event feed, with its actor
    steps = ["OrderFulfilled", "OrderFulfilmentDelivered"]

    def delivered_timeline() -> dict[str, Any] | None:
        """The timeline once the audit projector has the order's last step (it may lag)."""
        timeline = read(live_stack, customer, f"/orders/{order_id}/timeline")
        last = timeline["events"][-1] if timeline["events"] else {"data": {}}
        return timeline if last["data"].get("status") == "delivered" else None

    timeline = eventually(delivered_timeline)
    actors = [
        (e["type"], e["actor"], e["data"]["fulfilment_id"])
        for e in timeline["events"]
        if e["type"] in steps
    ]
    a_actor, b_actor = ({"id": me(live_stack, s), "role": "seller"} for s in (seller_a, seller_b))
    assert actors == [
        ("OrderFulfilled", a_actor, a_id),
        ("OrderFulfilled", b_actor, b_id),
        ("OrderFulfilmentDelivered", a_actor, a_id),
        ("OrderFulfilmentDelivered", b_actor, b_id),
    ]
    # the order as it was between the two parcels (v2 as_of) shows only the first
    first_at = next(  # the first parcel's save ends with the order moving to processing
        e["occurred_at"] for e in timeline["events"] if e["data"].get("status") == "processing"
    )
    then = read(live_stack, customer, f"/orders/{order_id}", as_of=first_at)
    assert [(f["id"], f["status"]) for f in then["fulfilments"]] == [(a_id, "shipped")]
    assert then["status"] == "processing"
    audit = read(live_stack, admin, "/admin/audit", aggregate_id=order_id, page_size=100)
    assert [(e["type"], e["actor"]) for e in audit["results"] if e["type"] in steps] == [
        (steps[0], a_actor),
        (steps[0], b_actor),
        (steps[1], a_actor),
        (steps[1], b_actor),
    ]
    feed = read(live_stack, admin, "/events", type="OrderFulfilled", limit=1000)["events"]
    ours = [e for e in feed if e["aggregate_id"] == order_id]
    assert [e["data"]["product_ids"] for e in ours] == [[mug], [lamp]]
    assert [e["actor"] for e in ours] == [a_actor, b_actor]
