from typing import Any

from projections.notifications.emails import order_email
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
