"""Event history on the read API: order timelines, orders as of a time, audit search, event feed."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
import requests

from tests.support.live_stack import PASSWORD, LiveStack, eventually, paid_order
from tests.support.shop_data import ADDRESS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_an_order_timeline_and_its_past_states(live_stack: LiveStack) -> None:
    # given: an order placed, paid and then processed
    seller, customer, order_id = paid_order(live_stack, "Globe", "40.00")
    seller.post(
        f"{live_stack.write_url}/api/v1/orders/{order_id}/status",
        json={"status": "processing"},
        timeout=10,
    )
    r1, r2 = f"{live_stack.read_url}/api/v1", f"{live_stack.read_url}/api/v2"
    timeline = eventually(
        lambda: (
            len(
                (t := customer.get(f"{r1}/orders/{order_id}/timeline", timeout=5).json()).get(
                    "events", []
                )
            )
            == 5
            and t
        )
    )
    # then: every event in order, with actor and time
    events = timeline["events"]
    assert [e["type"] for e in events] == [
        "OrderPlaced",
        "OrderPaymentStarted",
        "OrderPaymentAuthorised",
        "OrderPaid",
        "OrderStatusChanged",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["actor"]["role"] for e in events] == ["customer"] * 4 + ["seller"]
    # and: the order as it was just after placement, and before it existed
    placed_at = datetime.fromisoformat(events[0]["occurred_at"])
    then = customer.get(
        f"{r2}/orders/{order_id}",
        params={"as_of": (placed_at + timedelta(microseconds=1)).isoformat()},
        timeout=5,
    )
    before = customer.get(
        f"{r2}/orders/{order_id}",
        params={"as_of": (placed_at - timedelta(seconds=1)).isoformat()},
        timeout=5,
    )
    assert (then.status_code, then.json()["status"], then.json()["version"]) == (
        200,
        "pending_payment",
        1,
    )
    assert before.status_code == 404
    assert (
        customer.get(
            f"{r1}/orders/{order_id}", params={"as_of": placed_at.isoformat()}, timeout=5
        ).status_code
        == 404
    )
    # and: nobody else sees it
    stranger = live_stack.session("customer")
    assert stranger.get(f"{r1}/orders/{order_id}/timeline", timeout=5).status_code == 404
    assert (
        live_stack.session("admin").get(f"{r1}/orders/{order_id}/timeline", timeout=5).status_code
        == 200
    )


def test_admins_search_the_audit_log_and_analysts_read_the_event_feed(
    live_stack: LiveStack,
) -> None:
    # given
    admin = live_stack.session("admin")
    _, customer, order_id = paid_order(live_stack, "Vase", "12.00")
    r1, r2 = f"{live_stack.read_url}/api/v1", f"{live_stack.read_url}/api/v2"
    audit = eventually(
        lambda: (
            (
                a := admin.get(
                    f"{r1}/admin/audit", params={"aggregate_id": order_id}, timeout=5
                ).json()
            )["count"]
            == 4
            and a
        )
    )
    # then
    assert [e["type"] for e in audit["results"]] == [
        "OrderPlaced",
        "OrderPaymentStarted",
        "OrderPaymentAuthorised",
        "OrderPaid",
    ]
    assert all(e["request_id"] for e in audit["results"])
    assert customer.get(f"{r1}/admin/audit", timeout=5).status_code == 403
    # given: an analyst, promoted by the admin
    email = f"analyst-{order_id[:8]}@e2e.example.com"
    w = f"{live_stack.write_url}/api/v1"
    user = requests.post(
        f"{w}/auth/signup", json={"email": email, "password": PASSWORD}, timeout=10
    ).json()
    assert admin.post(f"{w}/users/{user['id']}/role", json={"role": "analyst"}, timeout=10).ok
    token = requests.post(
        f"{w}/auth/token", json={"email": email, "password": PASSWORD}, timeout=10
    ).json()
    analyst = requests.Session()
    analyst.headers["Authorization"] = f"Bearer {token['access']}"
    # when
    feed = analyst.get(f"{r2}/events", params={"after": 0, "limit": 5}, timeout=5).json()
    paid = analyst.get(
        f"{r2}/events", params={"type": "OrderPaid", "limit": 1000}, timeout=5
    ).json()
    # then: store order, continued by the next link, filterable by type
    positions = [e["position"] for e in feed["results"]]
    assert positions == sorted(positions)
    assert feed["next"] is not None
    nxt = analyst.get(feed["next"].replace("limit=5", "limit=1"), timeout=5).json()
    assert nxt["results"][0]["position"] > positions[-1]
    assert order_id in {e["aggregate_id"] for e in paid["results"]}
    assert {e["type"] for e in paid["results"]} == {"OrderPaid"}
    # and: the first shape still answers for existing clients
    assert (feed["events"], feed["next_after"]) == (feed["results"], positions[-1])
    assert customer.get(f"{r2}/events", timeout=5).status_code == 403
    assert analyst.get(f"{r1}/events", timeout=5).status_code == 404
    # when: the analyst downloads the order's events
    export = analyst.get(
        f"{r2}/events/export", params={"format": "csv", "aggregate_id": order_id}, timeout=10
    )
    # then: streamed in store order, the shipping address pseudonymised
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert [r["type"] for r in rows] == [e["type"] for e in audit["results"]]
    assert [v for k, v in ADDRESS.items() if k != "country" and v in export.text] == []
