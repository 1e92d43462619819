"""Escalations over the write API on PostgreSQL, projected, and read back by role."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django import db
from django.core import mail
from django.test import override_settings

from projections.audit.projector import AuditProjector
from projections.escalations.models import EscalationMessageView, EscalationView
from projections.notifications.projector import NotificationsProjector
from projections.shopping.projector import ShoppingProjector
from projections.tasks import send_order_email
from tests.integration.test_refunds import paid_order as paid_by_card
from tests.integration.test_refunds import refunded_event
from tests.integration.test_shopping import webhook
from tests.support.actors import Actor, make_actor
from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.domain.escalation import escalation_id, refund_id_for
from write_api.domain.metadata import CommandContext
from write_api.payments.fake_refunds import refunded_cents
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def paid_order(shop_app: Shop, customer: Actor, *sellers: Actor, pay: bool = True) -> str:
    """An order of `customer` with one line of each seller (paid unless `pay` is False)."""
    customer_id = customer.user.id  # type: ignore[union-attr]
    for seller in sellers:
        product = create_product(
            shop_app,
            name=f"P {uuid.uuid4().hex[:6]}",
            price=Decimal("20.00"),
            stock=5,
            seller_id=seller.user.id,  # type: ignore[union-attr]
        ).id
        shop_app.add_to_cart(
            customer_id=customer_id, product_id=product, quantity=1, context=CommandContext()
        )
    order = shop_app.check_out(
        customer_id=customer_id, shipping_address=ADDRESS, context=CommandContext()
    )
    if pay:
        shop_app.pay_order(order.id, charge_id=f"ch_{order.id}", context=CommandContext())
    return str(order.id)


def open_escalation(actor: Actor, order_id: str, **body: Any) -> Any:
    return actor.client.post(
        f"/api/v1/orders/{order_id}/escalations",
        {"reason": "damaged", "message": "It arrived broken.", **body},
        format="json",
    )


def write(actor: Actor, escalation: str, message: str) -> Any:
    return actor.client.post(
        f"/api/v1/escalations/{escalation}/messages", {"message": message}, format="json"
    )


def resolve(actor: Actor, escalation: str, **body: Any) -> Any:
    return actor.client.post(
        f"/api/v1/escalations/{escalation}/resolve",
        {"resolution": "reject", "message": "Delivered as ordered.", **body},
        format="json",
    )


@pytest.fixture
def other_seller(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "seller")


@pytest.fixture
def from_now(shop_app: Shop) -> int:
    """The event-store position before the test: what it stores comes after."""
    return shop_app.recorder.max_notification_id() or 0


def project_since(shop_app: Shop, start: int) -> list[dict[str, Any]]:
    """Project every event stored after `start` into the shopping rows and the audit log."""
    notifications = shop_app.recorder.select_notifications(
        start=start, limit=100_000, inclusive_of_start=False
    )
    envelopes = [to_envelope(shop_app.mapper.to_domain_event(n), n.id) for n in notifications]
    ShoppingProjector().apply(envelopes)
    AuditProjector().apply(envelopes)
    return envelopes


def test_an_escalation_opened_discussed_by_every_party_and_rejected(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, from_now: int
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    # when
    opened = open_escalation(customer, order_id)
    escalation = opened.json()["id"]
    replies = [
        write(customer, escalation, "Photos attached."),
        write(seller, escalation, "Sorry, we will look into it."),
        write(admin, escalation, "Checking with the carrier."),
    ]
    resolved = resolve(admin, escalation)
    # then
    assert (opened.status_code, opened.json()) == (
        201,
        {"id": str(escalation_id(uuid.UUID(order_id), 1)), "order_id": order_id,
         "status": "open", "version": 1},
    )  # fmt: skip
    assert [(r.status_code, r.json()["version"]) for r in replies] == [(201, 2), (201, 3), (201, 4)]
    assert (resolved.status_code, resolved.json()) == (
        200,
        {"id": escalation, "status": "resolved", "resolution": "reject", "version": 5},
    )
    # and: refused once resolved
    assert (
        write(customer, escalation, "But!").status_code,
        resolve(admin, escalation).status_code,
    ) == (
        409,
        409,
    )
    assert resolve(admin, escalation).json()["error"]["code"] == "escalation_resolved"
    # and: projected, the parties read it as written
    envelopes = project_since(shop_app, from_now)
    row = EscalationView.objects.get(id=escalation)
    assert (row.status, row.reason, row.resolution, row.refund, row.version) == (
        "resolved",
        "damaged",
        "reject",
        None,
        5,
    )
    assert [(m.role, m.message) for m in EscalationMessageView.objects.filter(escalation=row)] == [
        ("customer", "It arrived broken."),
        ("customer", "Photos attached."),
        ("seller", "Sorry, we will look into it."),
        ("admin", "Checking with the carrier."),
        ("admin", "Delivered as ordered."),
    ]
    assert [e["type"] for e in envelopes if e["aggregate_type"] == "Escalation"] == [
        "EscalationOpened",
        *["EscalationMessagePosted"] * 3,
        "EscalationResolved",
    ]
    # and: a re-delivery, in batches of any size, changes nothing
    mine = [e for e in envelopes if e["aggregate_type"] == "Escalation"]
    ShoppingProjector().apply(mine[1:3])
    ShoppingProjector().apply(mine)
    assert EscalationMessageView.objects.filter(escalation=row).count() == 5
    assert EscalationView.objects.get(id=escalation).version == 5


def test_a_second_escalation_waits_until_the_first_is_resolved(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    first = open_escalation(customer, order_id).json()["id"]
    # when
    refused = open_escalation(customer, order_id, reason="other")
    resolve(admin, first)
    second = open_escalation(customer, order_id, reason="not_received")
    # then
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "escalation_open")
    assert (second.status_code, second.json()["id"]) == (
        201,
        str(escalation_id(uuid.UUID(order_id), 2)),
    )


def test_concurrent_openings_on_one_order_open_exactly_one(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    start = threading.Barrier(8)

    def attempt(_: int) -> int:
        try:
            client = make_actor(shop_app, None).client
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {customer.access}")
            start.wait()
            return int(
                client.post(
                    f"/api/v1/orders/{order_id}/escalations",
                    {"reason": "damaged", "message": "Broken."},
                    format="json",
                ).status_code
            )
        finally:
            db.connection.close()

    # when
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    # then
    assert statuses == [201] + [409] * 7
    assert shop_app._load(escalation_id(uuid.UUID(order_id), 2), object) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "bored"}, "reason"),
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 2001}, "message"),
        ({"message": "nul\x00"}, "message"),
        ({"reason": 3}, "reason"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_openings_are_400_and_open_nothing(
    shop_app: Shop, customer: Actor, seller: Actor, body: dict[str, Any], field: str
) -> None:
    order_id = paid_order(shop_app, customer, seller)
    response = open_escalation(customer, order_id, **body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error")
    assert list(response.json()["error"]["details"]) == [field]
    assert list(shop_app.events.get(escalation_id(uuid.UUID(order_id), 1))) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resolution": "refund"}, "amount"),
        ({"resolution": "refund", "amount": "10"}, "amount"),
        ({"resolution": "refund", "amount": "10.5"}, "amount"),
        ({"resolution": "refund", "amount": "-5.00"}, "amount"),
        ({"resolution": "refund", "amount": "0.00"}, "amount"),
        ({"resolution": "refund", "amount": "ten"}, "amount"),
        ({"resolution": "refund", "amount": "5.00", "restock": "yes"}, "restock"),
        ({"resolution": "reject", "amount": "5.00"}, "amount"),
        ({"resolution": "reject", "restock": False}, "restock"),
        ({"resolution": "maybe"}, "resolution"),
        ({"message": ""}, "message"),
    ],
)
def test_bad_resolutions_are_400_and_change_nothing(
    shop_app: Shop,
    customer: Actor,
    seller: Actor,
    admin: Actor,
    body: dict[str, Any],
    field: str,
) -> None:
    order_id = paid_order(shop_app, customer, seller)
    escalation = open_escalation(customer, order_id).json()["id"]
    response = resolve(admin, escalation, **body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error")
    assert list(response.json()["error"]["details"]) == [field]
    assert len(list(shop_app.events.get(uuid.UUID(escalation)))) == 1
    refused_messages = [write(customer, escalation, m).status_code for m in ("", "\x01")]
    assert refused_messages == [400, 400]
    assert len(list(shop_app.events.get(uuid.UUID(escalation)))) == 1


def test_who_may_open_write_and_resolve(
    shop_app: Shop, customer: Actor, seller: Actor, other_seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    unpaid = paid_order(shop_app, customer, seller, pay=False)
    stranger, analyst = make_actor(shop_app, "customer"), make_actor(shop_app, "analyst")
    # when
    openings = {
        "stranger": open_escalation(stranger, order_id).status_code,
        "seller": open_escalation(seller, order_id).status_code,
        "admin": open_escalation(admin, order_id).status_code,
        "unknown order": open_escalation(customer, str(uuid.uuid4())).status_code,
        "unpaid": open_escalation(customer, unpaid).json()["error"]["code"],
    }
    escalation = open_escalation(customer, order_id).json()["id"]
    messages = {
        "stranger": write(stranger, escalation, "Hi").status_code,
        "other seller": write(other_seller, escalation, "Hi").status_code,
        "analyst": write(analyst, escalation, "Hi").status_code,
        "unknown": write(customer, str(uuid.uuid4()), "Hi").status_code,
    }
    resolutions = {
        "customer": resolve(customer, escalation).status_code,
        "seller": resolve(seller, escalation).status_code,
        "unknown": resolve(admin, str(uuid.uuid4())).status_code,
    }
    # then
    assert openings == {
        "stranger": 404,
        "seller": 403,
        "admin": 403,
        "unknown order": 404,
        "unpaid": "order_not_escalatable",
    }
    assert messages == {"stranger": 404, "other seller": 403, "analyst": 403, "unknown": 404}
    assert resolutions == {"customer": 403, "seller": 403, "unknown": 404}
    assert len(list(shop_app.events.get(uuid.UUID(escalation)))) == 1


def test_the_read_api_serves_escalations_by_role_and_the_timeline_shows_them(
    shop_app: Shop,
    customer: Actor,
    seller: Actor,
    other_seller: Actor,
    admin: Actor,
    from_now: int,
) -> None:
    # given: one escalation resolved, one open, on two orders of the customer
    first_order = paid_order(shop_app, customer, seller)
    second_order = paid_order(shop_app, customer, other_seller)
    resolved = open_escalation(customer, first_order, reason="wrong_item").json()["id"]
    write(seller, resolved, "We will send the right one.")
    resolve(admin, resolved)
    still_open = open_escalation(customer, second_order, reason="not_received").json()["id"]
    project_since(shop_app, from_now)
    stranger = make_actor(shop_app, "customer")
    # when
    with override_settings(ROOT_URLCONF="infra.urls.read_api"):

        def ids(actor: Actor, **params: str) -> list[str] | int:
            response = actor.client.get("/api/v1/escalations", params)
            if response.status_code != 200:
                return int(response.status_code)
            return [e["id"] for e in response.json()["results"]]

        listed = {
            "customer": ids(customer),
            "customer open": ids(customer, status="open"),
            "customer resolved": ids(customer, status="resolved"),
            "seller": ids(seller),
            "other seller": ids(other_seller),
            "stranger": ids(stranger),
            "bad status": ids(customer, status="closed"),
        }
        admin_all = admin.client.get("/api/v2/escalations", {"page_size": 100}).json()
        detail = customer.client.get(f"/api/v1/escalations/{resolved}")
        hidden = {
            "stranger": stranger.client.get(f"/api/v1/escalations/{resolved}").status_code,
            "other seller": other_seller.client.get(f"/api/v1/escalations/{resolved}").status_code,
            "seller": seller.client.get(f"/api/v1/escalations/{resolved}").status_code,
            "admin": admin.client.get(f"/api/v2/escalations/{resolved}").status_code,
        }
        timeline = customer.client.get(f"/api/v1/orders/{first_order}/timeline").json()
    # then
    assert listed == {
        "customer": [still_open, resolved],
        "customer open": [still_open],
        "customer resolved": [resolved],
        "seller": [resolved],
        "other seller": [still_open],
        "stranger": [],
        "bad status": 400,
    }
    assert {resolved, still_open} <= {e["id"] for e in admin_all["results"]}
    body = detail.json()
    assert (detail.status_code, body["status"], body["reason"], body["resolution"]) == (
        200,
        "resolved",
        "wrong_item",
        "reject",
    )
    assert (body["order_id"], body["refund"], body["version"]) == (first_order, None, 3)
    assert [(m["role"], m["message"]) for m in body["messages"]] == [
        ("customer", "It arrived broken."),
        ("seller", "We will send the right one."),
        ("admin", "Delivered as ordered."),
    ]
    assert body["messages"][0]["by"] == str(customer.user.id)  # type: ignore[union-attr]
    assert hidden == {"stranger": 404, "other seller": 404, "seller": 200, "admin": 200}
    assert [(e["type"], e["actor"]["role"]) for e in timeline["events"]] == [
        ("OrderPlaced", None),
        ("OrderPaid", None),
        ("EscalationOpened", "customer"),
        ("EscalationMessagePosted", "seller"),
        ("EscalationResolved", "admin"),
    ]


def test_opening_and_resolving_send_the_customer_one_email_each(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, from_now: int
) -> None:
    # given
    order_id = paid_order(shop_app, customer, seller)
    escalation = open_escalation(customer, order_id).json()["id"]
    write(seller, escalation, "On it.")
    resolve(admin, escalation)
    envelopes = [
        e for e in project_since(shop_app, from_now) if e["aggregate_type"] == "Escalation"
    ]
    enqueued: list[dict[str, Any]] = []
    mail.outbox.clear()
    # when: delivered twice, as Kafka may, and each task run twice, as Celery may
    NotificationsProjector(lambda **task: enqueued.append(task)).apply(envelopes + envelopes)
    results = [send_order_email.apply(kwargs=task).get() for task in enqueued + enqueued]
    # then
    assert [(t["kind"], t["order_id"]) for t in enqueued] == [
        ("escalation_opened", order_id),
        ("escalation_resolved", order_id),
    ] * 2
    assert results == ["sent", "sent"] + ["already sent"] * 6
    assert [m.to for m in mail.outbox] == [[customer.user.email]] * 2  # type: ignore[union-attr]
    assert [m.subject for m in mail.outbox] == [
        f"Order {order_id[:8]}: we received your request",
        f"Order {order_id[:8]}: your request is resolved",
    ]
    assert "Delivered as ordered." in mail.outbox[1].body


def test_a_refund_resolution_refunds_the_order_once_and_reads_partially_refunded(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, from_now: int
) -> None:
    # given: a 50.00 order paid at the gateway, with an open escalation
    order_id = paid_by_card(shop_app, customer, seller)
    escalation = open_escalation(customer, order_id).json()["id"]
    refund = {"resolution": "refund", "amount": "15.00", "restock": True}
    # when
    resolved = resolve(admin, escalation, **refund, message="Refunding the broken one.")
    again = resolve(admin, escalation, **refund, message="Refunding the broken one.")
    # then
    expected_refund = {
        "id": str(refund_id_for(uuid.UUID(escalation))),
        "amount": "15.00",
        "status": "succeeded",
    }
    assert (resolved.status_code, resolved.json()) == (
        200,
        {
            "id": escalation,
            "status": "resolved",
            "resolution": "refund",
            "refund": expected_refund,
            "version": 3,
        },
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "escalation_resolved")
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", Decimal("15.00"))
    assert refunded_cents(order.charge_id or "") == 1500
    # and: projected, the escalation shows its refund and the timeline every step
    project_since(shop_app, from_now)
    with override_settings(ROOT_URLCONF="infra.urls.read_api"):
        detail = customer.client.get(f"/api/v1/escalations/{escalation}").json()
        timeline = admin.client.get(f"/api/v1/orders/{order_id}/timeline").json()
    assert (detail["resolution"], detail["refund"]) == ("refund", expected_refund)
    types = [e["type"] for e in timeline["events"]]
    assert types[-5:] == [
        "EscalationOpened",
        "EscalationRefundStarted",
        "OrderRefundRequested",
        "OrderRefundSucceeded",
        "EscalationResolved",
    ]


def test_a_refund_beyond_what_was_captured_leaves_the_escalation_open(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id = paid_by_card(shop_app, customer, seller)
    escalation = open_escalation(customer, order_id).json()["id"]
    # when
    refused = resolve(admin, escalation, resolution="refund", amount="50.01")
    # then
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        409,
        "refund_exceeds_captured",
    )
    assert shop_app.get_escalation(uuid.UUID(escalation)).is_open
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.refunded_total, refunded_cents(order.charge_id or "")) == (Decimal("0.00"), 0)


def test_a_pending_refund_reads_settled_once_the_gateway_settles_it(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, from_now: int
) -> None:
    # given: an escalation resolved with a refund of a tok_async charge (pending at the gateway)
    order_id = paid_by_card(shop_app, customer, seller, card="tok_async")
    escalation = open_escalation(customer, order_id).json()["id"]
    resolved = resolve(admin, escalation, resolution="refund", amount="10.00", message="Refund.")
    refund_id = resolved.json()["refund"]["id"]
    project_since(shop_app, from_now)
    with override_settings(ROOT_URLCONF="infra.urls.read_api"):
        before = customer.client.get(f"/api/v1/escalations/{escalation}").json()["refund"]
    after_resolving = shop_app.recorder.max_notification_id() or 0
    # when: the gateway's webhook settles it
    settled = webhook(customer.client, refunded_event(shop_app, order_id, refund_id))
    project_since(shop_app, after_resolving)
    with override_settings(ROOT_URLCONF="infra.urls.read_api"):
        after = customer.client.get(f"/api/v1/escalations/{escalation}").json()["refund"]
    # then
    assert resolved.json()["refund"]["status"] == "pending"
    assert settled.json()["outcome"] == "applied"
    assert (before["status"], after) == (
        "pending",
        {"id": refund_id, "amount": "10.00", "status": "succeeded"},
    )


def test_a_rejection_racing_a_refund_resolution_never_leaves_money_and_verdict_apart(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: an escalation two admins resolve at once, one rejecting, one refunding
    order_id = paid_by_card(shop_app, customer, seller)
    escalation = open_escalation(customer, order_id).json()["id"]
    start = threading.Barrier(2)
    verdicts = [
        {"resolution": "reject", "message": "No."},
        {"resolution": "refund", "amount": "20.00", "message": "Yes."},
    ]

    def attempt(body: dict[str, Any]) -> int:
        try:
            client = make_actor(shop_app, None).client
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin.access}")
            start.wait()
            return int(
                client.post(
                    f"/api/v1/escalations/{escalation}/resolve", body, format="json"
                ).status_code
            )
        finally:
            db.connection.close()

    # when
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(attempt, verdicts))
    # then: one verdict, and the money agrees with it
    assert statuses == [200, 409]
    resolved = shop_app.get_escalation(uuid.UUID(escalation))
    order = shop_app.get_order(uuid.UUID(order_id))
    refunded = refunded_cents(order.charge_id or "")
    assert resolved.resolution is not None
    if resolved.resolution["resolution"] == "refund":
        assert (refunded, order.refunded_total) == (2000, Decimal("20.00"))
    else:
        assert (refunded, order.refunded_total) == (0, Decimal("0.00"))
