"""Payments never lose money: a crash between any two steps, settled by the reconciliation, and a
payment raced against expiry and cancellation each end with money and order agreeing.

Real event store (PostgreSQL) and the fake gateway's real ledger (Redis); the failures are
injected by tests/support/crashing_gateway.py around the real gateway and shop.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from threading import Barrier
from typing import Any

import pytest
from django import db
from django.core.management import call_command
from django.utils import timezone

from projections.shopping.models import OrderView
from projections.shopping.projector import ShoppingProjector
from tests.integration.test_shopping import currency_changed, pay, placed_order
from tests.support.actors import Actor
from tests.support.crashing_gateway import (
    CRASH_POINTS,
    CrashingGateway,
    ShopFailingToRecordPaid,
    SimulatedCrash,
)
from write_api.application import Shop, event_store_env
from write_api.domain.errors import Conflict
from write_api.domain.metadata import CommandContext
from write_api.paying import Payments, gateway_key
from write_api.payments.fake_gateway import FakeGateway
from write_api.payments.fake_refunds import refunded_cents
from write_api.published_events import to_envelope
from write_api.reconciling import PaymentReconciliation

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
CONTEXT = CommandContext(actor_role="customer", request_id="failure-injection")
STALE = timedelta(minutes=5)


def payments_with(shop: Shop, gateway: Any, *, later: timedelta = timedelta(0)) -> Payments:
    return Payments(
        shop,
        gateway,
        resume_after=timedelta(seconds=60),
        clock=lambda: datetime.now(UTC) + later,
    )


def reconciled(shop: Shop, order_id: str, *, later: timedelta = STALE) -> str:
    """Settle the order's attempt as the beat task does, `later` after now."""
    gateway = FakeGateway()
    payments = payments_with(shop, gateway, later=later)
    return PaymentReconciliation(payments, gateway, stale_after=STALE).settle(
        uuid.UUID(order_id), context=CONTEXT
    )


def kinds(shop: Shop, order_id: str) -> list[str]:
    return [type(e).__name__ for e in shop.events.get(uuid.UUID(order_id))]


def gateway_ledger(shop: Shop, order_id: str) -> dict[str, Decimal]:
    """The gateway's money for every attempt the order started, summed by charge outcome,
    and what it refunded of them."""
    amounts: dict[str, Decimal] = {}

    def add(kind: str, amount: Decimal) -> None:
        amounts[kind] = amounts.get(kind, Decimal("0.00")) + amount

    for event in shop.events.get(uuid.UUID(order_id)):
        if type(event).__name__ == "PaymentStarted":
            charge = FakeGateway().retrieve(gateway_key(event.attempt_id))  # type: ignore[attr-defined]
            if charge is not None and charge.amount is not None:
                add(charge.outcome.value, charge.amount)
                if cents := refunded_cents(charge.id):
                    add("refunded", Decimal(cents) / 100)
    return amounts


def assert_money_and_order_agree(shop: Shop, order_id: str) -> None:
    """No attempt in flight, no hold left on the card, captured exactly when the order is
    paid, and what the gateway kept is what the order says it kept."""
    order = shop.get_order(uuid.UUID(order_id))
    ledger = gateway_ledger(shop, order_id)
    paid = "Paid" in kinds(shop, order_id)
    captured = ledger.get("captured", Decimal("0.00"))
    assert order.payment_attempt is None
    assert "authorised" not in ledger
    if paid:
        assert captured == order.total
        assert captured - ledger.get("refunded", Decimal("0.00")) == order.refundable
    else:  # nothing kept: never taken, or all of it given back
        assert captured == ledger.get("refunded", Decimal("0.00"))


@pytest.fixture
def shop_failing_to_record_paid(shop_app: Shop) -> Iterator[Shop]:
    shop = ShopFailingToRecordPaid(env=event_store_env())
    yield shop
    shop.close()


def crashed_payment(
    shop_app: Shop, failing_shop: Shop, customer: Actor, seller: Actor, crash: str
) -> str:
    """A 20.00 order whose pay call died at `crash`."""
    order_id = placed_order(shop_app, customer, seller)
    shop = failing_shop if crash == "before paid recorded" else shop_app
    payments = payments_with(shop, CrashingGateway(FakeGateway(), crash))
    with pytest.raises(SimulatedCrash):
        payments.pay_order_with_token(
            uuid.UUID(order_id), customer_id=customer.user.id, token="tok_ok", context=CONTEXT
        )
    return order_id


@pytest.mark.parametrize("crash", CRASH_POINTS)
def test_a_crash_between_two_payment_steps_is_settled_and_money_and_order_agree(
    shop_app: Shop,
    shop_failing_to_record_paid: Shop,
    customer: Actor,
    seller: Actor,
    crash: str,
) -> None:
    # given
    order_id = crashed_payment(shop_app, shop_failing_to_record_paid, customer, seller, crash)
    in_flight = shop_app.get_order(uuid.UUID(order_id)).payment_attempt
    # when: too early, then once the attempt is stale, then again
    early = reconciled(shop_app, order_id, later=timedelta(0))
    outcome = reconciled(shop_app, order_id)
    again = reconciled(shop_app, order_id)
    # then
    assert in_flight is not None
    assert (early, again) == ("in_progress", "no_attempt")
    order = shop_app.get_order(uuid.UUID(order_id))
    if crash == "after attempt recorded":  # the gateway never saw it: nothing taken
        assert (outcome, order.status, gateway_ledger(shop_app, order_id)) == (
            "failed",
            "pending_payment",
            {},
        )
    else:
        assert (outcome, order.status) == ("paid", "paid")
        assert gateway_ledger(shop_app, order_id) == {"captured": Decimal("20.00")}
    assert_money_and_order_agree(shop_app, order_id)


def test_an_order_whose_attempt_failed_at_reconciliation_is_paid_again_once(
    shop_app: Shop, shop_failing_to_record_paid: Shop, customer: Actor, seller: Actor
) -> None:
    # given
    order_id = crashed_payment(
        shop_app, shop_failing_to_record_paid, customer, seller, "after attempt recorded"
    )
    assert reconciled(shop_app, order_id) == "failed"
    # when
    response = pay(customer, order_id, "tok_ok")
    # then
    assert (response.status_code, response.json()["status"]) == (200, "paid")
    assert gateway_ledger(shop_app, order_id) == {"captured": Decimal("20.00")}
    assert_money_and_order_agree(shop_app, order_id)


@pytest.mark.parametrize("crash", ["after attempt recorded", "after authorise", "after capture"])
def test_cancel_and_expiry_wait_for_an_attempt_in_flight_then_agree_with_its_outcome(
    shop_app: Shop,
    shop_failing_to_record_paid: Shop,
    customer: Actor,
    seller: Actor,
    crash: str,
) -> None:
    # given: a pay call died with its attempt in flight
    order_id = crashed_payment(shop_app, shop_failing_to_record_paid, customer, seller, crash)
    path = f"/api/v1/orders/{order_id}/cancel"
    # when
    cancel = customer.client.post(path)
    expired = shop_app.expire_order(
        uuid.UUID(order_id),
        now=timezone.now() + timedelta(hours=1),
        timeout=timedelta(minutes=15),
        context=CONTEXT,
    )
    outcome = reconciled(shop_app, order_id)
    # then: refused while in flight, and the attempt's outcome stands
    assert (cancel.status_code, cancel.json()["error"]["code"]) == (409, "payment_in_progress")
    assert expired is False
    assert outcome == ("failed" if crash == "after attempt recorded" else "paid")
    assert_money_and_order_agree(shop_app, order_id)
    assert customer.client.post(path).status_code == 200  # once ended, it may be cancelled


def test_an_authorisation_the_order_can_no_longer_take_is_voided_and_nothing_is_captured(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: while the gateway authorises, the reconciliation ends the (stale-looking) attempt
    order_id = placed_order(shop_app, customer, seller)
    ended: list[str] = []
    gateway = CrashingGateway(
        FakeGateway(),
        before_authorise=lambda: ended.append(reconciled(shop_app, order_id, later=STALE)),
    )
    payments = payments_with(shop_app, gateway)
    # when
    with pytest.raises(Conflict) as refused:
        payments.pay_order_with_token(
            uuid.UUID(order_id), customer_id=customer.user.id, token="tok_ok", context=CONTEXT
        )
    # then
    assert (ended, refused.value.code) == (["failed"], "unknown_charge")
    assert gateway_ledger(shop_app, order_id) == {"voided": Decimal("20.00")}
    assert shop_app.get_order(uuid.UUID(order_id)).status == "pending_payment"
    assert_money_and_order_agree(shop_app, order_id)


@pytest.mark.parametrize(
    ("crash", "outcome", "ledger"),
    [
        ("after attempt recorded", "voided", {}),
        ("after authorise", "voided", {"voided": Decimal("20.00")}),
        (
            "after capture",
            "refunded",
            {"captured": Decimal("20.00"), "refunded": Decimal("20.00")},
        ),
    ],
)
def test_an_attempt_left_on_an_order_cancelled_by_older_code_is_voided_or_refunded(
    shop_app: Shop,
    shop_failing_to_record_paid: Shop,
    customer: Actor,
    seller: Actor,
    crash: str,
    outcome: str,
    ledger: dict[str, Decimal],
) -> None:
    # given: a history from before cancel waited for attempts: cancelled with one in flight
    order_id = crashed_payment(shop_app, shop_failing_to_record_paid, customer, seller, crash)
    order = shop_app.get_order(uuid.UUID(order_id))
    order._cancelled(reason="by customer", previous=order.status, metadata={})
    shop_app.save(order)
    # when
    result = reconciled(shop_app, order_id)
    # then
    assert result == outcome
    assert gateway_ledger(shop_app, order_id) == ledger
    assert kinds(shop_app, order_id)[-2:] == ["Cancelled", "PaymentVoided"]
    assert_money_and_order_agree(shop_app, order_id)


def test_a_charge_taken_after_the_currency_changed_is_refunded_in_the_order_s(
    shop_app: Shop, customer: Actor, seller: Actor, settings: Any
) -> None:
    # given: an order placed, the shop moved to another currency, then a payment whose
    # capture's answer was lost, on an order cancelled by older code meanwhile
    order_id = placed_order(shop_app, customer, seller)
    placed_in = currency_changed(settings)
    payments = payments_with(shop_app, CrashingGateway(FakeGateway(), "after capture"))
    with pytest.raises(SimulatedCrash):
        payments.pay_order_with_token(
            uuid.UUID(order_id), customer_id=customer.user.id, token="tok_ok", context=CONTEXT
        )
    order = shop_app.get_order(uuid.UUID(order_id))
    attempt = order.payment_attempt or {}
    order._cancelled(reason="by customer", previous=order.status, metadata={})
    shop_app.save(order)
    # when
    outcome = reconciled(shop_app, order_id)
    # then: charged and given back in the order's currency
    assert outcome == "refunded"
    assert gateway_ledger(shop_app, order_id) == {
        "captured": Decimal("20.00"),
        "refunded": Decimal("20.00"),
    }
    charge = FakeGateway().retrieve(gateway_key(attempt["attempt_id"]))
    voided = list(shop_app.events.get(uuid.UUID(order_id)))[-1]
    refund_id = voided.reason.removeprefix("refunded ")  # type: ignore[attr-defined]
    refunded = FakeGateway().retrieve_refund(refund_id)
    assert (attempt["currency"], charge and charge.currency, refunded.currency) == (
        placed_in,
        placed_in,
        placed_in,
    )
    assert_money_and_order_agree(shop_app, order_id)


def test_the_management_command_settles_stalled_attempts_the_read_model_lists(
    shop_app: Shop, shop_failing_to_record_paid: Shop, customer: Actor, seller: Actor
) -> None:
    # given: an attempt whose capture succeeded but whose answer was lost, projected
    order_id = crashed_payment(
        shop_app, shop_failing_to_record_paid, customer, seller, "after capture"
    )
    events = list(shop_app.events.get(uuid.UUID(order_id)))
    ShoppingProjector().apply([to_envelope(e, position=n) for n, e in enumerate(events, 1)])
    assert OrderView.objects.get(id=order_id).payment == "pending"
    out = io.StringIO()
    # when
    call_command("reconcile_payments", "--older-than", "0", stdout=out)
    # then: a progress line (the output is no terminal), then the summary
    *progress, summary = out.getvalue().splitlines()
    assert summary == "reconciled 1 payments: paid 1"
    assert [line.split(",")[0] for line in progress] == ["reconcile: 1/1 payments"]
    assert shop_app.get_order(uuid.UUID(order_id)).status == "paid"
    assert_money_and_order_agree(shop_app, order_id)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each on its own thread and database connection."""
    barrier = Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        finally:
            db.connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_payments_raced_against_cancellation_end_with_money_and_order_agreeing(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    for _ in range(8):
        # given
        order_id = placed_order(shop_app, customer, seller)
        # when
        paid, cancelled = race(
            lambda order_id=order_id: pay(customer, order_id, "tok_ok"),
            lambda order_id=order_id: customer.client.post(f"/api/v1/orders/{order_id}/cancel"),
        )
        # then: whichever came first, the other was refused or came after it
        status = shop_app.get_order(uuid.UUID(order_id)).status
        if cancelled.status_code == 409:
            assert cancelled.json()["error"]["code"] == "payment_in_progress"
            assert (paid.status_code, status) == (200, "paid")
        else:  # paid before the cancel (and refunded by it), or refused after it
            assert (cancelled.status_code, status) == (200, "cancelled")
            assert paid.status_code in (200, 409)
        assert_money_and_order_agree(shop_app, order_id)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_payments_raced_against_expiry_end_with_money_and_order_agreeing(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    for _ in range(8):
        # given: an order already past its payment timeout
        order_id = placed_order(shop_app, customer, seller)

        def expire(order_id: str = order_id) -> bool:
            return shop_app.expire_order(
                uuid.UUID(order_id),
                now=timezone.now() + timedelta(hours=1),
                timeout=timedelta(minutes=15),
                context=CommandContext(actor_role="system"),
            )

        # when
        paid, expired = race(lambda order_id=order_id: pay(customer, order_id, "tok_ok"), expire)
        # then: exactly one of them happened
        status = shop_app.get_order(uuid.UUID(order_id)).status
        if expired:
            assert (paid.status_code, status) == (409, "cancelled")
            assert paid.json()["error"]["code"] == "illegal_transition"
        else:
            assert (paid.status_code, status) == (200, "paid")
        assert_money_and_order_agree(shop_app, order_id)
