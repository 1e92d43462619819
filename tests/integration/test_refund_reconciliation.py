"""Money the gateway gave back always ends on the order: a refund left pending because its
`charge.refunded` webhook never came is settled by the reconciliation, once, from what the
gateway says when asked.

Real event store (PostgreSQL), read model and the fake gateway's ledger (Redis). No Celery
worker runs under the test launcher, so every webhook the fake queues is dropped: exactly the
lost webhook this is about. A test that wants one delivered posts it itself.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client import REGISTRY

from processes.payment_reconciliation import reconcile_stalled_payments
from projections.shopping.models import OrderRefundView, OrderView
from projections.shopping.projector import ShoppingProjector
from tests.integration.test_refunds import (
    events_of,
    gateway_refund,
    paid_order,
    refund,
    refunded_event,
)
from tests.integration.test_shopping import currency_changed, webhook
from tests.support.actors import Actor
from write_api.application import Shop
from write_api.payments.fake_gateway import FakeGateway
from write_api.payments.fake_refunds import fail_refund, refunded_cents, settle_refund
from write_api.payments.gateway import RefundOutcome, RefundStatus, UnknownRefund
from write_api.published_events import to_envelope
from write_api.refunding import refund_key

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
STALE = timedelta(minutes=5)
UNREACHABLE = "tests.support.crashing_gateway.RefundsUnreachable"


@pytest.fixture(autouse=True)
def gateway_settles_at_once(settings: Any) -> None:
    """The fake gateway settles a pending refund as soon as it is asked (its webhook is lost)."""
    settings.FAKE_GATEWAY_SETTLE_SECONDS = 0


def project(shop_app: Shop, order_id: str, seen: int = 0) -> int:
    """Project the order's events after the first `seen`, as the projector would; how many
    it has now."""
    stored = list(shop_app.events.get(uuid.UUID(order_id)))
    envelopes = [to_envelope(e, n) for n, e in enumerate(stored, start=1)][seen:]
    ShoppingProjector().apply(envelopes)
    return len(stored)


def reconcile(*, later: timedelta = STALE) -> Counter[str]:
    """One round of the reconciliation (the beat task), `later` after now."""
    return reconcile_stalled_payments(STALE, now=timezone.now() + later)


def counted(outcome: str) -> float:
    labels = {"outcome": outcome}
    return REGISTRY.get_sample_value("shopstream_payment_reconciliations_total", labels) or 0.0


def pending_refund(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, amount: str
) -> tuple[str, str, int]:
    """A tok_async order of 50.00 with a refund of `amount` pending at the gateway, projected;
    (order id, refund id, events projected)."""
    order_id = paid_order(shop_app, customer, seller, card="tok_async")
    answer = refund(admin, order_id, amount)
    assert (answer.status_code, answer.json()["status"]) == (201, "pending")
    seen = project(shop_app, order_id)
    assert OrderRefundView.objects.get(id=answer.json()["id"]).status == "pending"
    return order_id, answer.json()["id"], seen


@pytest.mark.parametrize(
    ("amount", "status"), [("15.00", "partially_refunded"), ("50.00", "refunded")]
)
def test_a_refund_whose_webhook_was_lost_is_settled_succeeded_after_the_threshold(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, amount: str, status: str
) -> None:
    # given
    order_id, refund_id, seen = pending_refund(shop_app, customer, seller, admin, amount)
    before = counted("refund_succeeded")
    # when: before the threshold, then after it
    early = reconcile(later=timedelta(0))
    outcome = reconcile()
    # then
    assert (early, outcome) == (Counter(), Counter(refund_succeeded=1))
    assert counted("refund_succeeded") == before + 1
    order = shop_app.get_order(uuid.UUID(order_id))
    assert order.refunds[uuid.UUID(refund_id)]["status"] == "succeeded"
    assert (order.payment_status, order.refunded_total) == (status, Decimal(amount))
    assert events_of(shop_app, order_id)[-2:] == ["RefundPending", "RefundSucceeded"]
    project(shop_app, order_id, seen)
    view = OrderView.objects.get(id=order_id)
    assert (view.payment_status, view.refunded_total) == (status, Decimal(amount))
    assert OrderRefundView.objects.get(id=refund_id).status == "succeeded"


def test_a_refund_asked_after_the_currency_changed_is_reconciled_in_the_order_s(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, settings: Any
) -> None:
    # given: a tok_async order paid, the shop moved to another currency, a refund pending
    # whose webhook is lost
    order_id = paid_order(shop_app, customer, seller, card="tok_async")
    placed_in = currency_changed(settings)
    pending = refund(admin, order_id, "15.00")
    assert pending.status_code == 201, pending.content
    assert pending.json()["status"] == "pending"
    project(shop_app, order_id)
    # when
    outcome = reconcile()
    # then
    assert outcome == Counter(refund_succeeded=1)
    settled = gateway_refund(shop_app, order_id, pending.json()["id"])
    assert (settled.status, settled.currency) == (RefundStatus.SUCCEEDED, placed_in)
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.currency, order.refunded_total) == (placed_in, Decimal("15.00"))
    assert order.refunds[uuid.UUID(pending.json()["id"])]["status"] == "succeeded"


def test_the_webhook_arriving_after_the_reconciliation_changes_nothing(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: the reconciliation settled the refund
    order_id, refund_id, _ = pending_refund(shop_app, customer, seller, admin, "15.00")
    assert reconcile() == Counter(refund_succeeded=1)
    event = refunded_event(shop_app, order_id, refund_id)
    before = events_of(shop_app, order_id)
    # when: the lost webhook arrives late, and again
    late = webhook(customer.client, event)
    replay = webhook(customer.client, {**event, "id": f"evt_{uuid.uuid4().hex}"})
    # then
    assert late.json() == {"received": True, "outcome": "already_recorded"}
    assert replay.json() == {"received": True, "outcome": "already_recorded"}
    assert events_of(shop_app, order_id) == before
    assert shop_app.get_order(uuid.UUID(order_id)).refunded_total == Decimal("15.00")


def test_a_refund_the_gateway_refused_fails_and_its_amount_is_refundable_again(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: the gateway refused the pending refund, and its webhook was lost
    order_id, refund_id, seen = pending_refund(shop_app, customer, seller, admin, "20.00")
    fail_refund(refund_key(uuid.UUID(refund_id)), "account_closed")
    charge = shop_app.get_order(uuid.UUID(order_id)).charge_id or ""
    # when
    outcome = reconcile()
    # then
    assert outcome == Counter(refund_declined=1)
    order = shop_app.get_order(uuid.UUID(order_id))
    assert order.refunds[uuid.UUID(refund_id)]["status"] == "failed"
    assert (order.payment_status, order.refunded_total) == ("paid", Decimal("0.00"))
    assert (order.refundable, refunded_cents(charge)) == (Decimal("50.00"), 0)
    assert events_of(shop_app, order_id)[-1] == "RefundFailed"
    project(shop_app, order_id, seen)
    assert OrderRefundView.objects.get(id=refund_id).status == "failed"
    assert refund(admin, order_id, "50.00").status_code == 201  # all of it may be refunded


def test_a_refund_the_webhook_settled_is_left_untouched(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given: the webhook settled the refund; the read model has not seen it yet
    order_id, refund_id, seen = pending_refund(shop_app, customer, seller, admin, "15.00")
    applied = webhook(customer.client, refunded_event(shop_app, order_id, refund_id))
    assert applied.json()["outcome"] == "applied"
    before = events_of(shop_app, order_id)
    # when: a round while the read model lags, then one after it caught up
    lagging = reconcile()
    project(shop_app, order_id, seen)
    caught_up = reconcile()
    # then
    assert (lagging, caught_up) == (Counter(refund_settled=1), Counter())
    assert events_of(shop_app, order_id) == before
    assert shop_app.get_order(uuid.UUID(order_id)).refunded_total == Decimal("15.00")


def test_reconciling_twice_changes_nothing_more(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id, _, seen = pending_refund(shop_app, customer, seller, admin, "15.00")
    assert reconcile() == Counter(refund_succeeded=1)
    after_first = events_of(shop_app, order_id)
    # when: again before the read model saw the outcome, then after
    again = reconcile()
    project(shop_app, order_id, seen)
    third = reconcile()
    # then
    assert (again, third) == (Counter(refund_settled=1), Counter())
    assert events_of(shop_app, order_id) == after_first
    order = shop_app.get_order(uuid.UUID(order_id))
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", Decimal("15.00"))
    assert refunded_cents(order.charge_id or "") == 1500


def test_a_refund_still_pending_at_the_gateway_is_asked_again_next_round(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, settings: Any
) -> None:
    # given: the gateway has not settled the refund yet
    settings.FAKE_GATEWAY_SETTLE_SECONDS = 3600
    order_id, _, _ = pending_refund(shop_app, customer, seller, admin, "15.00")
    before = events_of(shop_app, order_id)
    # when
    outcome = reconcile()
    # then
    assert outcome == Counter(refund_pending=1)
    assert events_of(shop_app, order_id) == before
    assert shop_app.get_order(uuid.UUID(order_id)).payment_status == "paid"


def test_a_gateway_outage_leaves_the_refund_pending_and_the_next_round_settles_it(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor, settings: Any
) -> None:
    # given
    order_id, refund_id, _ = pending_refund(shop_app, customer, seller, admin, "15.00")
    before = events_of(shop_app, order_id)
    working_gateway = settings.PAYMENT_GATEWAY
    # when: a round during an outage, then one after it
    settings.PAYMENT_GATEWAY = UNREACHABLE
    during = reconcile()
    unchanged = events_of(shop_app, order_id)
    settings.PAYMENT_GATEWAY = working_gateway
    after = reconcile()
    # then
    assert (during, after) == (Counter(refund_unreachable=1), Counter(refund_succeeded=1))
    assert unchanged == before
    order = shop_app.get_order(uuid.UUID(order_id))
    assert order.refunds[uuid.UUID(refund_id)]["status"] == "succeeded"
    assert order.payment_status == "partially_refunded"


def test_the_management_command_settles_pending_refunds_with_the_payments(
    shop_app: Shop, customer: Actor, seller: Actor, admin: Actor
) -> None:
    # given
    order_id, _, _ = pending_refund(shop_app, customer, seller, admin, "15.00")
    out = io.StringIO()
    # when
    call_command("reconcile_payments", "--older-than", "0", stdout=out)
    # then: a progress line (the output is no terminal), then the summary
    *progress, summary = out.getvalue().splitlines()
    assert summary == "reconciled 1 payments: refund_succeeded 1"
    assert [line.split(",")[0] for line in progress] == ["reconcile: 1/1 payments"]
    assert shop_app.get_order(uuid.UUID(order_id)).payment_status == "partially_refunded"


def test_the_fake_gateway_retrieves_a_refund_as_a_provider_does(
    shop_app: Shop, customer: Actor, seller: Actor, settings: Any
) -> None:
    # given: two pending refunds of a 50.00 charge, not due yet
    settings.FAKE_GATEWAY_SETTLE_SECONDS = 3600
    order_id = paid_order(shop_app, customer, seller, card="tok_async")
    order = shop_app.get_order(uuid.UUID(order_id))
    charge, currency = order.charge_id or "", order.currency
    gateway = FakeGateway()

    def give_back(key: str) -> RefundOutcome:
        return gateway.refund(
            charge_id=charge, amount=Decimal("20.00"), currency=currency, idempotency_key=key,
            metadata={},
        )  # fmt: skip

    r1, r2 = f"r1-{uuid.uuid4()}", f"r2-{uuid.uuid4()}"  # the gateway's ledger outlives a test
    refused, settled = give_back(r1), give_back(r2)
    # when: the gateway refuses the first, settles the second (their webhooks lost)
    fail_refund(r1, "account_closed")
    fail_refund(r1, "account_closed")  # once only
    assert settle_refund(r2) is RefundStatus.SUCCEEDED
    assert settle_refund(r1) is RefundStatus.FAILED  # a late settle changes nothing
    # then
    assert (refused.status, settled.status) == (RefundStatus.PENDING, RefundStatus.PENDING)
    assert gateway.retrieve_refund(refused.id) == RefundOutcome(
        refused.id, RefundStatus.FAILED, "account_closed", currency
    )
    assert gateway.retrieve_refund(settled.id) == RefundOutcome(
        settled.id, RefundStatus.SUCCEEDED, "", currency
    )
    assert refunded_cents(charge) == 2000
    with pytest.raises(UnknownRefund):
        gateway.retrieve_refund("re_unknown")
