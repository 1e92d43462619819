"""Order's events keep the topics they are stored under, whichever module defines their
bodies: stored orders (and any snapshot of one) load only if each topic still resolves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from tests.support.shop_data import ADDRESS, CONTEXT
from write_api.application import Shop
from write_api.domain.order import Order

# Read from write_api/domain/order.py before it was split into one module per concern.
STORED_TOPICS = {
    "Created": "shopstream.order.Created",
    "Placed": "shopstream.order.Placed",
    "PaymentStarted": "shopstream.order.PaymentStarted",
    "PaymentResumed": "shopstream.order.PaymentResumed",
    "PaymentFailed": "shopstream.order.PaymentFailed",
    "PaymentPending": "shopstream.order.PaymentPending",
    "PaymentAuthorised": "shopstream.order.PaymentAuthorised",
    "PaymentVoided": "shopstream.order.PaymentVoided",
    "Paid": "shopstream.order.Paid",
    "StatusChanged": "shopstream.order.StatusChanged",
    "Cancelled": "shopstream.order.Cancelled",
    "RefundRequested": "shopstream.order.RefundRequested",
    "RefundPending": "shopstream.order.RefundPending",
    "RefundSucceeded": "shopstream.order.RefundSucceeded",
    "RefundFailed": "shopstream.order.RefundFailed",
    "Fulfilled": "shopstream.order.Fulfilled",
    "FulfilmentDelivered": "shopstream.order.FulfilmentDelivered",
}
PRODUCT = UUID("00000000-0000-0000-0000-0000000000b1")


def event_classes() -> dict[str, type[Any]]:
    return {
        name: value
        for name, value in vars(Order).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate) and name != "Event"
    }


def placed() -> Order:
    line = {
        "product_id": PRODUCT,
        "name": "Mug",
        "unit_price": Decimal("12.50"),
        "quantity": 2,
        "seller_id": None,
        "category_id": None,
    }
    return Order.place(
        order_id=uuid4(),
        customer_id=uuid4(),
        lines=[line],
        shipping_address=ADDRESS,
        currency="EUR",
        context=CONTEXT,
    )


def a_long_life(order: Order) -> None:
    """Every kind of event but Created (never recorded) and Cancelled."""
    later = datetime.now(UTC) + timedelta(hours=1)
    attempt = order.begin_payment(
        attempt_id=uuid4(), now=later, resume_after=timedelta(0), context=CONTEXT
    )
    order.begin_payment(attempt_id=uuid4(), now=later, resume_after=timedelta(0), context=CONTEXT)
    order.record_payment_declined(
        charge_id="ch_1", reason="card declined", attempt_id=attempt["attempt_id"], context=CONTEXT
    )
    attempt = order.begin_payment(
        attempt_id=uuid4(), now=later, resume_after=timedelta(0), context=CONTEXT
    )
    order.record_payment_voided(
        attempt_id=attempt["attempt_id"], charge_id="ch_2", reason="timeout", context=CONTEXT
    )
    attempt = order.begin_payment(
        attempt_id=uuid4(), now=later, resume_after=timedelta(0), context=CONTEXT
    )
    order.record_payment_pending(
        charge_id="ch_3", attempt_id=attempt["attempt_id"], context=CONTEXT
    )
    order.record_payment_authorised(
        attempt_id=attempt["attempt_id"], charge_id="ch_3", context=CONTEXT
    )
    order.mark_paid(charge_id="ch_3", attempt_id=attempt["attempt_id"], context=CONTEXT)
    kept, given_back = uuid4(), uuid4()
    for refund_id in (kept, given_back):
        order.request_refund(
            refund_id=refund_id,
            amount=Decimal("5.00"),
            reason="Arrived chipped",
            restock=True,
            product_ids=None,
            seller_id=None,
            context=CONTEXT,
        )
    order.record_refund_pending(refund_id=given_back, gateway_refund_id="re_1", context=CONTEXT)
    order.record_refund_succeeded(refund_id=given_back, gateway_refund_id="re_1", context=CONTEXT)
    order.record_refund_failed(refund_id=kept, reason="gateway refused", context=CONTEXT)
    parcel = uuid4()
    order.fulfil(
        fulfilment_id=parcel,
        product_ids=[PRODUCT],
        carrier="DHL",
        tracking_number="JD014600003",
        seller_id=None,
        context=CONTEXT,
    )
    order.deliver(fulfilment_id=parcel, seller_id=None, context=CONTEXT)


def test_every_order_event_class_keeps_its_stored_topic() -> None:
    # given / when
    topics = {name: get_topic(cls) for name, cls in event_classes().items()}

    # then
    assert topics == STORED_TOPICS
    assert get_topic(Order) == "shopstream.order"
    assert Order.Placed.class_version == 2


def test_an_order_stored_through_its_whole_life_has_those_topics_and_loads_as_it_was(
    shop: Shop,
) -> None:
    # given
    order, cancelled = placed(), placed()
    a_long_life(order)
    cancelled.cancel(reason="changed my mind", context=CONTEXT)

    # when
    stored = [shop.mapper.to_stored_event(e) for e in order.collect_events()]
    stored_cancel = [shop.mapper.to_stored_event(e) for e in cancelled.collect_events()]
    loaded: Order | None = None
    for record in stored:
        loaded = shop.mapper.to_domain_event(record).mutate(loaded)

    # then
    assert [r.topic.removeprefix("shopstream.order.") for r in stored] == [
        "Placed",
        "PaymentStarted",
        "PaymentResumed",
        "PaymentFailed",
        "PaymentStarted",
        "PaymentVoided",
        "PaymentStarted",
        "PaymentPending",
        "PaymentAuthorised",
        "Paid",
        "RefundRequested",
        "RefundRequested",
        "RefundPending",
        "RefundSucceeded",
        "RefundFailed",
        "Fulfilled",
        "StatusChanged",
        "FulfilmentDelivered",
        "StatusChanged",
    ]
    assert [r.topic for r in stored_cancel][-1] == "shopstream.order.Cancelled"
    assert {r.topic for r in stored + stored_cancel} <= set(STORED_TOPICS.values())
    assert loaded is not None
    assert vars(loaded) == vars(order)
    assert (loaded.status, loaded.refunded_total, loaded.refundable) == (
        "delivered",
        Decimal("5.00"),
        Decimal("20.00"),
    )
