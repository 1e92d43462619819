"""The email task sends once per event id, however often and however concurrently it runs."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django import db
from django.core import mail
from django.utils import timezone

from projections.notifications.models import SentEmail
from projections.shopping.models import OrderView
from projections.tasks import send_order_email
from write_api.accounts.models import User

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def given_projected_order() -> str:
    customer = User.objects.create_user(f"c-{uuid.uuid4().hex[:8]}@example.com", "pw-unused-here")
    order = OrderView.objects.create(
        id=uuid.uuid4(),
        customer_id=customer.id,
        status="paid",
        total=Decimal("49.00"),
        currency="EUR",
        shipping_address={},
        created_at=timezone.now(),
        updated_at=timezone.now(),
        version=2,
    )
    return str(order.id)


def run_task(event_id: str, order_id: str) -> str:
    try:
        return str(
            send_order_email.apply(
                kwargs={"event_id": event_id, "kind": "order_paid", "order_id": order_id}
            ).get()
        )
    finally:
        db.connections.close_all()


def test_five_concurrent_runs_for_one_event_send_one_email() -> None:
    # given
    order_id, event_id = given_projected_order(), str(uuid.uuid4())
    mail.outbox.clear()
    # when
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda _: run_task(event_id, order_id), range(5)))
    # then
    assert sorted(results) == ["already sent"] * 4 + ["sent"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["X-Shopstream-Event"] == event_id
    assert "payment of 49.00 EUR for order" in mail.outbox[0].body
    assert SentEmail.objects.filter(event_id=event_id).count() == 1


def test_a_task_for_an_order_not_projected_yet_is_retried_not_dropped() -> None:
    # when: run eagerly, every retry runs at once until the retries are used up
    result = send_order_email.apply(
        kwargs={"event_id": str(uuid.uuid4()), "kind": "order_paid", "order_id": str(uuid.uuid4())}
    )
    # then
    assert result.state == "FAILURE"
    assert "OrderNotProjectedYet" in result.traceback
    assert send_order_email.max_retries == 12
    assert SentEmail.objects.count() == 0
