"""Escalations on the running stack: opened, discussed and resolved over HTTP, read back by role,
in the timeline, the audit log and the event feed, with one customer email per event."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.test_notifications import emails_for
from tests.support.live_stack import LiveStack, eventually, paid_order

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def post(session: requests.Session, url: str, body: dict[str, Any]) -> requests.Response:
    return session.post(url, json=body, timeout=10)


def test_an_escalation_from_opening_to_rejection_as_every_party_sees_it(
    live_stack: LiveStack,
) -> None:
    # given: a paid order, and its parties
    seller, customer, order_id = paid_order(live_stack, "Kettle", "30.00")
    admin, stranger = live_stack.session("admin"), live_stack.session("customer")
    other_seller = live_stack.session("seller")
    w, r1, r2 = (
        f"{live_stack.write_url}/api/v1",
        f"{live_stack.read_url}/api/v1",
        f"{live_stack.read_url}/api/v2",
    )
    # when: opened, a second opening refused, bad input refused
    opened = post(
        customer, f"{w}/orders/{order_id}/escalations", {"reason": "damaged", "message": "Dented."}
    )
    escalation = opened.json()["id"]
    second = post(
        customer, f"{w}/orders/{order_id}/escalations", {"reason": "other", "message": "And more."}
    )
    bad_reason = post(
        customer, f"{w}/orders/{order_id}/escalations", {"reason": "late", "message": "x"}
    )
    empty = post(customer, f"{w}/escalations/{escalation}/messages", {"message": ""})
    bad_amount = post(
        admin,
        f"{w}/escalations/{escalation}/resolve",
        {"resolution": "refund", "amount": "5", "message": "x"},
    )
    strangers = (
        post(stranger, f"{w}/escalations/{escalation}/messages", {"message": "Hi"}).status_code,
        post(other_seller, f"{w}/escalations/{escalation}/messages", {"message": "Hi"}).status_code,
        post(
            stranger, f"{w}/orders/{order_id}/escalations", {"reason": "other", "message": "x"}
        ).status_code,
    )
    # and: every party writes, and an admin rejects it
    replies = [
        post(customer, f"{w}/escalations/{escalation}/messages", {"message": "Photo attached."}),
        post(seller, f"{w}/escalations/{escalation}/messages", {"message": "Sorry!"}),
        post(admin, f"{w}/escalations/{escalation}/messages", {"message": "Looking."}),
    ]
    resolved = post(
        admin,
        f"{w}/escalations/{escalation}/resolve",
        {"resolution": "reject", "message": "Within tolerance."},
    )
    # then
    assert (opened.status_code, opened.json()["status"], opened.json()["version"]) == (
        201,
        "open",
        1,
    )
    assert (second.status_code, second.json()["error"]["code"]) == (409, "escalation_open")
    assert [bad_reason.status_code, empty.status_code, bad_amount.status_code] == [400, 400, 400]
    assert strangers == (404, 403, 404)
    assert [r.status_code for r in replies] == [201, 201, 201]
    assert (resolved.status_code, resolved.json()["resolution"]) == (200, "reject")
    # and: the read API serves it by role once projected
    detail = eventually(
        lambda: (
            (d := customer.get(f"{r1}/escalations/{escalation}", timeout=5)).status_code == 200
            and d.json()["status"] == "resolved"
            and d.json()
        )
    )
    assert [(m["role"], m["message"]) for m in detail["messages"]] == [
        ("customer", "Dented."),
        ("customer", "Photo attached."),
        ("seller", "Sorry!"),
        ("admin", "Looking."),
        ("admin", "Within tolerance."),
    ]
    assert (detail["reason"], detail["resolution"], detail["refund"]) == ("damaged", "reject", None)

    def listed_by() -> dict[str, list[str]]:
        return {
            name: [e["id"] for e in s.get(f"{r1}/escalations", timeout=5).json()["results"]]
            for name, s in [("customer", customer), ("seller", seller), ("stranger", stranger)]
        }

    # A seller's list joins the order's lines, which another projector (shopping) writes:
    # it may show the escalation a moment after the escalation's own projector does.
    listed = eventually(lambda: (found := listed_by())["seller"] and found)
    assert listed == {"customer": [escalation], "seller": [escalation], "stranger": []}
    assert stranger.get(f"{r1}/escalations/{escalation}", timeout=5).status_code == 404
    assert (
        customer.get(f"{r1}/escalations", params={"status": "shut"}, timeout=5).status_code == 400
    )
    resolved_ids = [
        e["id"]
        for e in admin.get(
            f"{r2}/escalations", params={"status": "resolved", "page_size": 100}, timeout=5
        ).json()["results"]
    ]
    assert escalation in resolved_ids
    # and: the timeline, the audit log and the event feed show each step with its actor

    def resolved_timeline() -> dict[str, Any] | None:
        # The escalation's events are in order on their topic: its last one means all of them.
        t = customer.get(f"{r1}/orders/{order_id}/timeline", timeout=5).json()
        return t if "EscalationResolved" in {e["type"] for e in t["events"]} else None

    timeline = eventually(resolved_timeline)
    steps = [
        (e["type"], e["actor"]["role"])
        for e in timeline["events"]
        if e["aggregate_id"] == escalation
    ]
    assert steps == [
        ("EscalationOpened", "customer"),
        ("EscalationMessagePosted", "customer"),
        ("EscalationMessagePosted", "seller"),
        ("EscalationMessagePosted", "admin"),
        ("EscalationResolved", "admin"),
    ]
    audit = admin.get(f"{r1}/admin/audit", params={"aggregate_id": escalation}, timeout=5).json()
    assert [e["type"] for e in audit["results"]][-1] == "EscalationResolved"

    def resolved_in_feed() -> list[dict[str, Any]]:
        # The feed ends before the audit log's first hole, which another topic's lagging
        # event may open for a moment: the event shows once the hole closes.
        feed = admin.get(
            f"{r2}/events", params={"type": "EscalationResolved", "limit": 1000}, timeout=5
        )
        return [e for e in feed.json()["events"] if e["aggregate_id"] == escalation]

    mine = eventually(resolved_in_feed)
    assert [(e["actor"]["role"], e["data"]["order_id"]) for e in mine] == [("admin", order_id)]
    # and: the customer got one email when it opened and one when it was resolved
    about = lambda: [e for e in emails_for(live_stack.mail_dir, order_id) if "your request" in e]  # noqa: E731
    emails = eventually(lambda: len(found := about()) == 2 and found, timeout=60)
    assert sorted("resolved" in e for e in emails) == [False, True]
    time.sleep(3)  # a duplicate would have been sent by now (tasks take ~2 s with this mailer)
    assert len(about()) == 2


def test_an_escalation_resolved_with_a_refund_refunds_the_order(live_stack: LiveStack) -> None:
    # given
    _, customer, order_id = paid_order(live_stack, "Teapot", "40.00")
    admin = live_stack.session("admin")
    w, r1 = f"{live_stack.write_url}/api/v1", f"{live_stack.read_url}/api/v1"
    escalation = post(
        customer,
        f"{w}/orders/{order_id}/escalations",
        {"reason": "not_as_described", "message": "Blue, not red."},
    ).json()["id"]
    body = {
        "resolution": "refund",
        "amount": "12.50",
        "restock": False,
        "message": "Partial refund.",
    }
    # when: resolved, then retried as a client would after a timeout
    resolved = post(admin, f"{w}/escalations/{escalation}/resolve", body)
    retried = post(admin, f"{w}/escalations/{escalation}/resolve", body)
    # then
    refund = resolved.json()["refund"]
    assert (resolved.status_code, refund["amount"], refund["status"]) == (200, "12.50", "succeeded")
    assert (retried.status_code, retried.json()["error"]["code"]) == (409, "escalation_resolved")
    # and: a read naming the resolution's version sees it (or says it is stale)
    wanted = f"{escalation}:{resolved.json()['version']}"
    answers = [
        customer.get(f"{r1}/escalations/{escalation}", headers={"X-Min-Version": wanted}, timeout=5)
        for _ in range(3)
    ]
    fresh = [a for a in answers if "X-Consistency" not in a.headers]
    assert fresh, "no answer within three bounded waits"
    assert all((a.status_code, a.json()["status"]) == (200, "resolved") for a in fresh)
    detail = fresh[0].json()
    assert detail["refund"] == refund

    def resolved_timeline() -> Any:
        # The order's and the escalation's events come from two topics: the audit log may
        # hold one's before the other's, so the wait is for both.
        t = admin.get(f"{r1}/orders/{order_id}/timeline", timeout=5).json()
        types = {e["type"] for e in t["events"]}
        return {"EscalationResolved", "OrderRefundSucceeded"} <= types and t

    timeline = eventually(resolved_timeline)
    refunds = [e for e in timeline["events"] if e["type"].startswith("OrderRefund")]
    assert [e["type"] for e in refunds] == ["OrderRefundRequested", "OrderRefundSucceeded"]
    # and: the order reads partially refunded
    order = eventually(
        lambda: (
            (o := customer.get(f"{r1}/orders/{order_id}", timeout=5).json()).get("payment_status")
            == "partially_refunded"
            and o
        )
    )
    assert (order["refunded_total"], [r["id"] for r in order["refunds"]]) == (
        "12.50",
        [refund["id"]],
    )
