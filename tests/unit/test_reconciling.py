"""Authorise, record, capture on the in-memory store: each step once, cancel waits, and the
reconciliation settles an attempt from what the gateway says of it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from tests.support.gateways import RecordingGateway
from tests.support.shop_data import CONTEXT
from tests.unit.test_paying import Clock, kinds, placed_order
from write_api.application import Shop
from write_api.domain.errors import Conflict
from write_api.paying import Payments, gateway_key
from write_api.payments.gateway import Charge, Outcome
from write_api.reconciling import PaymentReconciliation

STALE = timedelta(minutes=5)


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def payments(shop: Shop, gateway: RecordingGateway, clock: Clock) -> Payments:
    return Payments(shop, gateway, resume_after=timedelta(seconds=60), clock=clock)


@pytest.fixture
def reconciliation(payments: Payments, gateway: RecordingGateway) -> PaymentReconciliation:
    return PaymentReconciliation(payments, gateway, stale_after=STALE)


def started(shop: Shop, clock: Clock) -> tuple[UUID, UUID]:
    """A placed order of 25.00 with an attempt recorded and nothing at the gateway yet."""
    order_id, _ = placed_order(shop)
    attempt = shop.begin_payment(
        order_id, now=clock(), resume_after=timedelta(seconds=60), context=CONTEXT
    )
    return order_id, attempt.attempt_id


def held(gateway: RecordingGateway, attempt_id: UUID, outcome: Outcome) -> Charge:
    """The gateway's charge for the attempt, in the state `outcome`."""
    charge = Charge("ch_held", outcome, "card_declined" if outcome is Outcome.DECLINED else "")
    gateway.ledger[gateway_key(attempt_id)] = charge
    return charge


def test_an_order_is_not_cancelled_while_its_payment_attempt_is_in_flight(
    shop: Shop, clock: Clock
) -> None:
    # given
    order_id, _ = started(shop, clock)
    # when
    with pytest.raises(Conflict) as refused:
        shop.cancel_order(order_id, reason="by customer", context=CONTEXT)
    # then
    assert (refused.value.code, refused.value.transient) == ("payment_in_progress", True)
    assert kinds(shop, order_id) == ["Placed", "PaymentStarted"]


def test_the_authorisation_is_recorded_once_whoever_records_it(shop: Shop, clock: Clock) -> None:
    # given
    order_id, attempt_id = started(shop, clock)
    # when
    for _ in range(2):
        shop.record_payment_authorised(
            order_id, attempt_id=attempt_id, charge_id="ch_1", context=CONTEXT
        )
    # then
    assert kinds(shop, order_id) == ["Placed", "PaymentStarted", "PaymentAuthorised"]
    attempt = shop.get_order(order_id).payment_attempt
    assert attempt is not None
    assert (attempt["charge_id"], attempt["authorised"]) == ("ch_1", True)


@pytest.mark.parametrize(
    ("outcome", "result", "last", "moves"),
    [
        (None, "failed", "PaymentFailed", []),
        (Outcome.DECLINED, "failed", "PaymentFailed", []),
        (Outcome.VOIDED, "voided", "PaymentVoided", []),
        (Outcome.PENDING, "pending", "PaymentStarted", []),
        (Outcome.AUTHORISED, "paid", "Paid", [("capture", "ch_held")]),
        (Outcome.CAPTURED, "paid", "Paid", []),
    ],
)
def test_a_stale_attempt_is_settled_from_what_the_gateway_knows(
    shop: Shop,
    gateway: RecordingGateway,
    clock: Clock,
    reconciliation: PaymentReconciliation,
    outcome: Outcome | None,
    result: str,
    last: str,
    moves: list[tuple[str, str]],
) -> None:
    # given
    order_id, attempt_id = started(shop, clock)
    if outcome is not None:
        held(gateway, attempt_id, outcome)
    clock.now += STALE + timedelta(seconds=1)
    # when
    settled = reconciliation.settle(order_id, context=CONTEXT)
    # then
    assert (settled, kinds(shop, order_id)[-1], gateway.moves) == (result, last, moves)


def test_an_attempt_with_recent_progress_is_left_to_its_pay_call(
    shop: Shop, gateway: RecordingGateway, clock: Clock, reconciliation: PaymentReconciliation
) -> None:
    order_id, attempt_id = started(shop, clock)
    held(gateway, attempt_id, Outcome.AUTHORISED)
    clock.now += STALE - timedelta(seconds=1)
    assert reconciliation.settle(order_id, context=CONTEXT) == "in_progress"
    assert (kinds(shop, order_id)[-1], gateway.moves) == ("PaymentStarted", [])


def test_a_charge_the_pay_call_authorised_is_captured_for_the_attempts_amount(
    shop: Shop, payments: Payments, gateway: RecordingGateway
) -> None:
    # given
    order_id, customer = placed_order(shop)
    # when
    payments.pay_order_with_token(order_id, customer_id=customer, token="tok_ok", context=CONTEXT)
    # then
    [charge] = gateway.ledger.values()
    assert (charge.outcome, charge.amount) == (Outcome.CAPTURED, Decimal("25.00"))
    assert gateway.moves == [("capture", charge.id)]


def test_an_authorised_attempt_is_not_failed_by_a_gateway_answer_from_before_it(
    shop: Shop, clock: Clock
) -> None:
    # given: the reconciliation heard "no such charge", then the pay call recorded its hold
    order_id, attempt_id = started(shop, clock)
    shop.record_payment_authorised(
        order_id, attempt_id=attempt_id, charge_id="ch_1", context=CONTEXT
    )
    # when: the reconciliation acts on its stale answer
    with pytest.raises(Conflict) as refused:
        shop.record_payment_declined(
            order_id,
            charge_id="",
            reason="not_at_gateway",
            attempt_id=attempt_id,
            context=CONTEXT,
        )
    # then: the attempt stays, to be captured (and paid) or voided
    assert refused.value.code == "payment_authorised"
    assert kinds(shop, order_id) == ["Placed", "PaymentStarted", "PaymentAuthorised"]
