"""Payment use cases on the in-memory event store: one attempt in flight, outcomes per attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from tests.support.gateways import RecordingGateway
from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.errors import ConcurrentChange, Conflict, NotFound
from write_api.paying import PaymentDeclined, Payments, gateway_key
from write_api.payments.notices import ChargeNotice, GatewayNotice

RESUME_AFTER = timedelta(seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def placed_order(shop: Shop, price: str = "12.50", quantity: int = 2) -> tuple[UUID, UUID]:
    customer = uuid4()
    mug = create_product(shop, price=Decimal(price), stock=5).id
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=quantity, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    return order.id, customer


def kinds(shop: Shop, order_id: UUID) -> list[str]:
    return [type(e).__name__ for e in shop.events.get(order_id)]


def notice(order_id: object, **overrides: object) -> ChargeNotice:
    fields: dict[str, object] = {
        "event_id": f"evt_{uuid4().hex}",
        "type": "charge.succeeded",
        "charge_id": "ch_1",
        "order_id": order_id,
        "amount": Decimal("25.00"),
        "currency": "USD",
        "attempt_id": None,
        "succeeded": True,
        "reason": "",
    }
    fields.update(overrides)
    return ChargeNotice(**fields)  # type: ignore[arg-type]


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def payments(shop: Shop, gateway: RecordingGateway, clock: Clock) -> Payments:
    return Payments(shop, gateway, resume_after=RESUME_AFTER, clock=clock)


def test_paying_records_attempt_and_authorisation_before_the_gateway_captures_its_total(
    shop: Shop, payments: Payments, gateway: RecordingGateway
) -> None:
    # given
    order_id, customer = placed_order(shop)
    # when
    result = payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_ok", context=CONTEXT
    )
    # then
    [started, authorised, paid] = list(shop.events.get(order_id))[1:]
    [call] = gateway.calls
    assert (result.status, result.version) == ("paid", 4)
    assert (authorised.charge_id, authorised.attempt_id) == ("ch_1", started.attempt_id)
    assert gateway.moves == [("capture", "ch_1")]
    assert (started.amount, started.currency) == (Decimal("25.00"), "USD")
    assert call["idempotency_key"] == gateway_key(started.attempt_id)
    assert (call["amount"], call["currency"]) == (Decimal("25.00"), "USD")
    assert call["metadata"] == {"attempt_id": str(started.attempt_id)}
    assert (paid.charge_id, paid.attempt_id) == ("ch_1", started.attempt_id)
    assert shop.get_order(order_id).payment_attempt is None


def test_an_order_is_charged_and_matched_in_its_own_currency(
    gateway: RecordingGateway, clock: Clock
) -> None:
    # given: a shop whose orders are placed in EUR, and one with its charge pending
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "SHOP_CURRENCY": "EUR"})
    payments = Payments(shop, gateway, resume_after=RESUME_AFTER, clock=clock)
    order_id, customer = placed_order(shop)
    result = payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_async", context=CONTEXT
    )
    attempt = shop.get_order(order_id).payment_attempt or {}
    settled = notice(order_id, charge_id="ch_1", attempt_id=attempt["attempt_id"])
    # when
    in_usd = payments.apply_gateway_event(settled, CONTEXT)
    in_eur = payments.apply_gateway_event(
        notice(**{**settled.__dict__, "currency": "EUR"}), CONTEXT
    )
    # then
    [call] = gateway.calls
    assert (result.status, attempt["currency"], call["currency"]) == (
        "payment_pending",
        "EUR",
        "EUR",
    )
    assert (in_usd, in_eur) == ("refused: currency_mismatch", "applied")
    assert shop.get_order(order_id).status == "paid"


def test_a_second_payer_while_an_attempt_is_in_flight_gets_payment_in_progress(
    shop: Shop, payments: Payments, gateway: RecordingGateway
) -> None:
    # given: a second payer arrives while the first one's gateway call runs
    order_id, customer = placed_order(shop)
    refused: list[Conflict] = []

    def second_payer() -> None:
        with pytest.raises(Conflict) as error:
            payments.pay_order_with_token(
                order_id, customer_id=customer, token="tok_ok", context=CONTEXT
            )
        refused.append(error.value)

    gateway.on_charge = second_payer
    # when
    result = payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_ok", context=CONTEXT
    )
    # then
    assert result.status == "paid"
    assert [(e.code, e.transient) for e in refused] == [("payment_in_progress", True)]
    assert gateway.charges_for(str(order_id)) == 1
    assert kinds(shop, order_id) == ["Placed", "PaymentStarted", "PaymentAuthorised", "Paid"]


def test_a_declined_attempt_ends_and_the_order_stays_payable_with_a_new_attempt(
    shop: Shop, payments: Payments, gateway: RecordingGateway
) -> None:
    # given
    order_id, customer = placed_order(shop)
    # when
    with pytest.raises(PaymentDeclined) as declined:
        payments.pay_order_with_token(
            order_id, customer_id=customer, token="tok_declined", context=CONTEXT
        )
    paid = payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_ok", context=CONTEXT
    )
    # then
    assert declined.value.details == {"reason": "card_declined"}
    assert paid.status == "paid"
    first, second = (c["idempotency_key"] for c in gateway.calls)
    assert first != second
    assert kinds(shop, order_id) == [
        "Placed",
        "PaymentStarted",
        "PaymentFailed",
        "PaymentStarted",
        "PaymentAuthorised",
        "Paid",
    ]


def test_an_attempt_left_in_flight_is_resumed_after_the_timeout_with_the_same_key(
    shop: Shop, payments: Payments, gateway: RecordingGateway, clock: Clock
) -> None:
    # given: an attempt recorded, then the process died before the gateway answered
    order_id, customer = placed_order(shop)
    started = shop.begin_payment(order_id, now=clock(), resume_after=RESUME_AFTER, context=CONTEXT)
    # when: too early, then after the timeout
    with pytest.raises(Conflict) as early:
        payments.pay_order_with_token(
            order_id, customer_id=customer, token="tok_ok", context=CONTEXT
        )
    clock.now += RESUME_AFTER + timedelta(seconds=1)
    resumed = payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_ok", context=CONTEXT
    )
    # then
    assert early.value.code == "payment_in_progress"
    assert resumed.status == "paid"
    assert [c["idempotency_key"] for c in gateway.calls] == [gateway_key(started.attempt_id)]
    assert kinds(shop, order_id) == [
        "Placed",
        "PaymentStarted",
        "PaymentResumed",
        "PaymentAuthorised",
        "Paid",
    ]


def test_a_pending_attempt_blocks_new_payments_and_expiry(
    shop: Shop, payments: Payments, gateway: RecordingGateway, clock: Clock
) -> None:
    # given
    order_id, customer = placed_order(shop)
    pending = payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_async", context=CONTEXT
    )
    # when / then
    assert pending.status == "payment_pending"
    with pytest.raises(Conflict) as again:
        payments.pay_order_with_token(
            order_id, customer_id=customer, token="tok_ok", context=CONTEXT
        )
    assert again.value.code == "payment_in_progress"
    later = clock.now + timedelta(hours=1)
    assert not shop.expire_order(
        order_id, now=later, timeout=timedelta(minutes=15), context=CONTEXT
    )
    assert len(gateway.calls) == 1


def test_only_the_owner_may_pay_and_nothing_is_recorded_for_anyone_else(
    shop: Shop, payments: Payments, gateway: RecordingGateway
) -> None:
    order_id, _ = placed_order(shop)
    with pytest.raises(NotFound):
        payments.pay_order_with_token(
            order_id, customer_id=uuid4(), token="tok_ok", context=CONTEXT
        )
    assert (kinds(shop, order_id), gateway.calls) == (["Placed"], [])


def pending_attempt(shop: Shop, payments: Payments) -> tuple[UUID, UUID, str]:
    order_id, customer = placed_order(shop)
    payments.pay_order_with_token(
        order_id, customer_id=customer, token="tok_async", context=CONTEXT
    )
    attempt = shop.get_order(order_id).payment_attempt
    assert attempt is not None
    return order_id, attempt["attempt_id"], attempt["charge_id"]


def test_the_charge_the_order_started_settles_it_once(shop: Shop, payments: Payments) -> None:
    # given
    order_id, attempt_id, charge_id = pending_attempt(shop, payments)
    settled = notice(order_id, charge_id=charge_id, attempt_id=attempt_id)
    # when
    first = payments.apply_gateway_event(settled, CONTEXT)
    again = payments.apply_gateway_event(notice(order_id, charge_id=charge_id), CONTEXT)
    # then
    assert (first, again) == ("applied", "already_recorded")
    assert shop.get_order(order_id).status == "paid"
    assert kinds(shop, order_id)[-1] == "Paid"


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"amount": Decimal("0.01")}, "refused: amount_mismatch"),
        ({"currency": "EUR"}, "refused: currency_mismatch"),
        ({"charge_id": "ch_other"}, "refused: unknown_charge"),
        ({"attempt_id": UUID(int=7)}, "refused: unknown_charge"),
        ({"order_id": UUID(int=9)}, "refused: unknown_order"),
        ({"succeeded": False, "amount": Decimal("1.00")}, "refused: amount_mismatch"),
    ],
)
def test_a_gateway_event_that_does_not_match_the_order_is_refused_and_changes_nothing(
    shop: Shop, payments: Payments, change: dict[str, object], outcome: str
) -> None:
    # given
    order_id, attempt_id, charge_id = pending_attempt(shop, payments)
    before = kinds(shop, order_id)
    fields = {"order_id": order_id, "charge_id": charge_id, "attempt_id": attempt_id, **change}
    mismatch = notice(**fields)
    # when
    result = payments.apply_gateway_event(mismatch, CONTEXT)
    # then
    assert result == outcome
    assert kinds(shop, order_id) == before
    assert shop.get_order(order_id).status == "pending_payment"


def test_a_charge_for_an_order_that_never_started_one_is_unknown(
    shop: Shop, payments: Payments
) -> None:
    order_id, _ = placed_order(shop)
    result = payments.apply_gateway_event(notice(order_id, attempt_id=uuid4()), CONTEXT)
    assert (result, kinds(shop, order_id)) == ("refused: unknown_charge", ["Placed"])


def test_a_webhook_that_overtakes_the_pending_record_is_linked_by_its_attempt(
    shop: Shop, payments: Payments, clock: Clock
) -> None:
    # given: the attempt is recorded, its charge id not yet
    order_id, _ = placed_order(shop)
    started = shop.begin_payment(order_id, now=clock(), resume_after=RESUME_AFTER, context=CONTEXT)
    # when
    applied = payments.apply_gateway_event(
        notice(order_id, charge_id="ch_fast", attempt_id=started.attempt_id), CONTEXT
    )
    shop.record_payment_pending(
        order_id, charge_id="ch_fast", attempt_id=started.attempt_id, context=CONTEXT
    )
    # then: the late "pending" record changes nothing
    assert applied == "applied"
    assert kinds(shop, order_id) == ["Placed", "PaymentStarted", "Paid"]


def test_a_declined_charge_webhook_ends_the_attempt(shop: Shop, payments: Payments) -> None:
    order_id, attempt_id, charge_id = pending_attempt(shop, payments)
    failed = notice(
        order_id, charge_id=charge_id, attempt_id=attempt_id, succeeded=False, reason="expired"
    )
    assert payments.apply_gateway_event(failed, CONTEXT) == "applied"
    order = shop.get_order(order_id)
    assert (order.status, order.payment_attempt) == ("pending_payment", None)


def test_event_types_we_do_not_act_on_are_ignored(shop: Shop, payments: Payments) -> None:
    assert payments.apply_gateway_event(GatewayNotice("evt_1", "charge.refunded"), CONTEXT) == (
        "ignored"
    )


def test_a_charge_left_pending_before_attempts_were_recorded_still_settles(
    shop: Shop, payments: Payments
) -> None:
    # given: an order whose pending charge was recorded without an attempt (older code)
    order_id, _ = placed_order(shop)
    shop.record_payment_pending(order_id, charge_id="ch_old", context=CONTEXT)
    # when
    other = payments.apply_gateway_event(notice(order_id, charge_id="ch_other"), CONTEXT)
    settled = payments.apply_gateway_event(notice(order_id, charge_id="ch_old"), CONTEXT)
    # then
    assert (other, settled) == ("refused: unknown_charge", "applied")
    assert kinds(shop, order_id) == ["Placed", "PaymentPending", "Paid"]


def test_a_lost_race_is_not_an_answer_to_the_gateway(
    shop: Shop, gateway: RecordingGateway, clock: Clock
) -> None:
    # given: an order that keeps changing under the settlement
    class Busy(Shop):
        def settle_gateway_charge(self, *args: object, **kwargs: object) -> bool:
            raise ConcurrentChange("changed too often")

    busy = Busy(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    payments = Payments(busy, gateway, resume_after=RESUME_AFTER, clock=clock)
    # when / then: it propagates (nothing recorded, the gateway retries) instead of "refused"
    with pytest.raises(ConcurrentChange):
        payments.apply_gateway_event(notice(uuid4()), CONTEXT)
