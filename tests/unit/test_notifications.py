from typing import Any

from projections.notifications.emails import order_email
from projections.notifications.escalation_emails import escalation_email
from projections.notifications.projector import NotificationsProjector


def envelope(kind: str, **data: Any) -> dict[str, Any]:
    return {"event_id": f"e-{kind}", "aggregate_id": "o1", "type": kind, "data": data}


def test_paid_and_shipped_orders_become_email_tasks_and_nothing_else_does() -> None:
    # given
    enqueued: list[dict[str, Any]] = []
    projector = NotificationsProjector(lambda **task: enqueued.append(task))
    # when
    projector.apply(
        [
            envelope("OrderPlaced"),
            envelope("OrderPaid", charge_id="ch"),
            envelope("OrderStatusChanged", status="processing"),
            envelope("OrderStatusChanged", status="shipped"),
            envelope("OrderCancelled"),
        ]
    )
    # then
    assert enqueued == [
        {"event_id": "e-OrderPaid", "kind": "order_paid", "order_id": "o1"},
        {"event_id": "e-OrderStatusChanged", "kind": "order_shipped", "order_id": "o1"},
    ]


def test_emails_name_the_order_and_the_amount() -> None:
    paid = order_email("order_paid", "12345678-aaaa", "49.00")
    assert (paid.subject, "49.00" in paid.body) == ("Order 12345678 confirmed", True)


def test_opened_and_resolved_escalations_become_one_email_task_each_and_messages_none() -> None:
    # given
    enqueued: list[dict[str, Any]] = []
    projector = NotificationsProjector(lambda **task: enqueued.append(task))
    refund = {"id": "r1", "amount": "15.00", "status": "succeeded"}
    # when
    projector.apply(
        [
            {
                **envelope("EscalationOpened", order_id="o1", reason="not_received"),
                "aggregate_id": "x1",
            },
            {
                **envelope("EscalationMessagePosted", order_id="o1", message="Hi"),
                "aggregate_id": "x1",
            },
            {
                **envelope(
                    "EscalationResolved",
                    order_id="o1",
                    resolution="refund",
                    message="Sorry.",
                    restock=False,
                    refund=refund,
                ),
                "aggregate_id": "x1",
            },
        ]
    )
    # then
    assert enqueued == [
        {
            "event_id": "e-EscalationOpened",
            "order_id": "o1",
            "kind": "escalation_opened",
            "details": {"escalation_id": "x1", "reason": "not_received"},
        },
        {
            "event_id": "e-EscalationResolved",
            "order_id": "o1",
            "kind": "escalation_resolved",
            "details": {
                "escalation_id": "x1",
                "resolution": "refund",
                "message": "Sorry.",
                "amount": "15.00",
            },
        },
    ]


def test_escalation_emails_say_what_was_decided() -> None:
    details = {"escalation_id": "x1", "resolution": "reject", "message": "Delivered on time."}
    opened = escalation_email(
        "escalation_opened", "12345678-aaaa", {"escalation_id": "x1", "reason": "wrong_item"}
    )
    rejected = escalation_email("escalation_resolved", "12345678-aaaa", details)
    refunded = escalation_email(
        "escalation_resolved",
        "12345678-aaaa",
        {**details, "resolution": "refund", "amount": "9.50"},
    )
    assert (opened.subject, "wrong item" in opened.body) == (
        "Order 12345678: we received your request",
        True,
    )
    assert "could not grant a refund" in rejected.body
    assert "Delivered on time." in rejected.body
    assert "refunding 9.50" in refunded.body
