"""Refund rules and use cases on the in-memory event store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from tests.support.gateways import RecordingGateway
from tests.support.shop_data import ADDRESS, CONTEXT, create_product
from write_api.application import Shop
from write_api.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from write_api.paying import Payments
from write_api.payments.gateway import RefundStatus
from write_api.payments.notices import RefundNotice
from write_api.refunding import RefundDeclined, Refunds, refund_key

D = Decimal


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def refunds(shop: Shop, gateway: RecordingGateway) -> Refunds:
    return Refunds(shop, gateway)


def paid_order(shop: Shop, gateway: RecordingGateway, *, pay: bool = True) -> tuple[UUID, UUID]:
    """A 50.00 order of 5 mugs (10.00 each), paid with tok_ok; (order id, product id)."""
    customer = uuid4()
    mug = create_product(shop, price=D("10.00"), stock=8).id
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=5, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    if pay:
        payments = Payments(shop, gateway, resume_after=timedelta(seconds=60))
        payments.pay_order_with_token(
            order.id, customer_id=customer, token="tok_ok", context=CONTEXT
        )
    return order.id, mug


def refund(refunds: Refunds, order_id: UUID, amount: str, **overrides: object) -> object:
    fields: dict[str, object] = {
        "amount": D(amount),
        "reason": "damaged",
        "restock": False,
        "product_ids": None,
        "refund_id": None,
        "context": CONTEXT,
    }
    fields.update(overrides)
    return refunds.refund_order(order_id, **fields)  # type: ignore[arg-type]


def test_a_partial_refund_succeeds_and_leaves_the_order_partially_refunded(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given
    order_id, _ = paid_order(shop, gateway)
    # when
    result = refund(refunds, order_id, "20.00")
    # then
    order = shop.get_order(order_id)
    assert (result.status, result.amount, result.order_id) == ("succeeded", D("20.00"), order_id)  # type: ignore[attr-defined]
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", D("20.00"))
    assert gateway.calls[-1]["idempotency_key"] == refund_key(result.id)  # type: ignore[attr-defined]


def test_a_refund_is_asked_and_matched_in_the_order_s_currency() -> None:
    # given: a shop whose orders are placed in EUR, and a tok_ok order of 50.00 paid
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "SHOP_CURRENCY": "EUR"})
    gateway = RecordingGateway(refund_status=RefundStatus.PENDING)
    refunds = Refunds(shop, gateway)
    order_id, _ = paid_order(shop, gateway)
    pending = refund(refunds, order_id, "15.00")
    settled = RefundNotice(
        "evt_1",
        "charge.refunded",
        gateway_refund_id="re_1",
        charge_id=shop.get_order(order_id).charge_id or "",
        order_id=order_id,
        refund_id=pending.id,  # type: ignore[attr-defined]
        amount=D("15.00"),
        currency="USD",
        succeeded=True,
        reason="",
    )
    # when
    in_usd = refunds.apply_gateway_event(settled, CONTEXT)
    in_eur = refunds.apply_gateway_event(
        RefundNotice(**{**settled.__dict__, "currency": "EUR"}), CONTEXT
    )
    # then
    assert (gateway.calls[-1]["refund_of"], gateway.calls[-1]["currency"]) == ("ch_1", "EUR")
    assert (in_usd, in_eur) == ("refused: currency_mismatch", "applied")
    assert shop.get_order(order_id).refunded_total == D("15.00")


def test_refunding_everything_leaves_the_order_refunded(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway)
    refund(refunds, order_id, "20.00")
    refund(refunds, order_id, "30.00")
    order = shop.get_order(order_id)
    assert (order.payment_status, order.refunded_total) == ("refunded", D("50.00"))


def test_more_than_captured_minus_refunded_is_refused_and_changes_nothing(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given
    order_id, _ = paid_order(shop, gateway)
    refund(refunds, order_id, "45.00")
    version = shop.get_order(order_id).version
    # when
    with pytest.raises(Conflict) as refused:
        refund(refunds, order_id, "5.01")
    # then
    assert refused.value.code == "refund_exceeds_captured"
    assert shop.get_order(order_id).version == version


def test_a_pending_refund_holds_its_amount(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway)
    gateway.refund_status = RefundStatus.PENDING
    pending = refund(refunds, order_id, "40.00")
    assert pending.status == "pending"  # type: ignore[attr-defined]
    assert shop.get_order(order_id).payment_status == "paid"
    with pytest.raises(Conflict, match=r"10\.00"):
        refund(refunds, order_id, "10.01")


def test_an_unpaid_order_cannot_be_refunded(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway, pay=False)
    with pytest.raises(Conflict) as refused:
        refund(refunds, order_id, "1.00")
    assert refused.value.code == "order_not_paid"
    assert gateway.calls == []


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "1.005", "NaN"])
def test_an_amount_that_is_not_positive_cents_is_invalid(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds, amount: str
) -> None:
    order_id, _ = paid_order(shop, gateway)
    with pytest.raises(ValidationFailed) as refused:
        refund(refunds, order_id, amount)
    assert list(refused.value.details) == ["amount"]


def test_an_unknown_product_is_named_in_the_details(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway)
    stranger = uuid4()
    with pytest.raises(ValidationFailed) as refused:
        refund(refunds, order_id, "1.00", product_ids=[stranger])
    assert refused.value.details == {"product_ids": [f"Not a product of this order: {stranger}."]}


def test_restock_puts_the_refunded_lines_units_back_once(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given: 8 mugs, 5 sold
    order_id, mug = paid_order(shop, gateway)
    assert shop.get_product(mug).stock == 3
    # when
    refund(refunds, order_id, "10.00", restock=True, product_ids=[mug])
    refund(refunds, order_id, "10.00", restock=True)
    # then
    assert shop.get_product(mug).stock == 8


def test_an_existing_refund_id_returns_that_refund_unchanged(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway)
    refund_id = uuid4()
    first = refund(refunds, order_id, "10.00", refund_id=refund_id)
    again = refund(refunds, order_id, "30.00", refund_id=refund_id)
    assert again == first
    assert shop.get_order(order_id).refunded_total == D("10.00")


def test_a_declined_refund_frees_its_amount(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway)
    gateway.refund_status = RefundStatus.FAILED
    with pytest.raises(RefundDeclined):
        refund(refunds, order_id, "50.00")
    gateway.refund_status = RefundStatus.SUCCEEDED
    assert refund(refunds, order_id, "50.00").status == "succeeded"  # type: ignore[attr-defined]


def test_a_seller_refunds_only_its_own_lines(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, mug = paid_order(shop, gateway)
    seller = shop.get_product(mug).seller_id
    with pytest.raises(Forbidden):
        refund(refunds, order_id, "1.00", product_ids=[mug], seller_id=uuid4())
    with pytest.raises(ValidationFailed):
        refund(refunds, order_id, "1.00", seller_id=seller)
    done = refund(refunds, order_id, "50.00", product_ids=[mug], seller_id=seller)
    assert done.status == "succeeded"  # type: ignore[attr-defined]


def test_the_gateway_settles_a_pending_refund_once(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given
    order_id, _ = paid_order(shop, gateway)
    gateway.refund_status = RefundStatus.PENDING
    pending = refund(refunds, order_id, "15.00")
    order = shop.get_order(order_id)
    notice = RefundNotice(
        "evt_1",
        "charge.refunded",
        gateway_refund_id="re_1",
        charge_id=order.charge_id or "",
        order_id=order_id,
        refund_id=pending.id,  # type: ignore[attr-defined]
        amount=D("15.00"),
        currency="USD",
        succeeded=True,
        reason="",
    )
    # when
    first = refunds.apply_gateway_event(notice, CONTEXT)
    again = refunds.apply_gateway_event(notice, CONTEXT)
    wrong = refunds.apply_gateway_event(
        RefundNotice(**{**notice.__dict__, "amount": D("16.00")}), CONTEXT
    )
    # then
    assert (first, again, wrong) == ("applied", "already_recorded", "refused: amount_mismatch")
    assert shop.get_order(order_id).payment_status == "partially_refunded"


def test_a_refund_of_an_unknown_order_is_not_found(refunds: Refunds) -> None:
    with pytest.raises(NotFound):
        refund(refunds, uuid4(), "1.00")


def test_cancelling_a_paid_order_refunds_what_is_left_and_restocks(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given: 5 of 8 mugs sold, 10.00 already refunded
    order_id, mug = paid_order(shop, gateway)
    refund(refunds, order_id, "10.00")
    # when
    saved = refunds.cancel_order(order_id, reason="by admin", context=CONTEXT)
    # then
    order = shop.get_order(order_id)
    assert (order.status, order.payment_status, order.refunded_total) == (
        "cancelled",
        "refunded",
        D("50.00"),
    )
    assert saved.version == order.version
    assert shop.get_product(mug).stock == 8


def test_cancelling_an_unpaid_order_refunds_nothing(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, mug = paid_order(shop, gateway, pay=False)
    refunds.cancel_order(order_id, reason="by customer", context=CONTEXT)
    order = shop.get_order(order_id)
    assert (order.status, order.refunds, gateway.calls) == ("cancelled", {}, [])
    assert shop.get_product(mug).available == 8


def test_a_declined_cancellation_refund_still_cancels_and_shows_the_failure(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, _ = paid_order(shop, gateway)
    gateway.refund_status = RefundStatus.FAILED
    refunds.cancel_order(order_id, reason="by admin", context=CONTEXT)
    order = shop.get_order(order_id)
    assert order.status == "cancelled"
    assert [r["status"] for r in order.refunds.values()] == ["failed"]
    assert order.refundable == D("50.00")


def test_a_refund_whose_gateway_call_broke_is_held_and_resumed_once_with_its_key(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given: the gateway is unreachable during the refund
    order_id, _ = paid_order(shop, gateway)
    refund_id = uuid4()
    gateway.refunds_unreachable = True
    with pytest.raises(ConnectionError):
        refund(refunds, order_id, "10.00", refund_id=refund_id)
    gateway.refunds_unreachable = False
    assert shop.get_order(order_id).refundable == D("40.00")  # held all the same
    # when
    resumed = refunds.resume_refund(order_id, refund_id, context=CONTEXT)
    again = refunds.resume_refund(order_id, refund_id, context=CONTEXT)
    # then
    assert (resumed, again) == (True, False)
    assert shop.get_order(order_id).refunded_total == D("10.00")
    assert [c["idempotency_key"] for c in gateway.calls if "refund_of" in c] == [
        refund_key(refund_id)
    ]
