"""The order read model folds the payment-attempt events and keeps the documented statuses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from projections.audit.models import AuditEvent
from projections.audit.projector import AuditProjector
from projections.shopping.models import OrderView
from projections.shopping.projector import ShoppingProjector
from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
CONTEXT = CommandContext(actor_id="u1", actor_role="customer")


def test_attempts_show_as_pending_payment_and_the_status_history_stays_as_documented() -> None:
    # given: an order paid after a declined attempt and a resumed one, in memory
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    mug = create_product(
        shop,
        name="Mug",
        description="",
        price=Decimal("12.50"),
        stock=3,
        seller_id=uuid4(),
        context=CONTEXT,
    ).id
    customer = uuid4()
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=2, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)

    def begin(now_offset: timedelta) -> None:
        shop.begin_payment(
            order.id,
            now=shop.get_order(order.id).modified_on + now_offset,
            resume_after=timedelta(seconds=60),
            context=CONTEXT,
        )

    begin(timedelta(0))
    attempt = shop.get_order(order.id).payment_attempt
    assert attempt is not None
    shop.record_payment_declined(
        order.id,
        charge_id="ch_1",
        reason="card_declined",
        attempt_id=attempt["attempt_id"],
        context=CONTEXT,
    )
    begin(timedelta(0))
    begin(timedelta(minutes=2))  # resumed
    events = list(shop.events.get(order.id))
    envelopes = [to_envelope(e, position=n) for n, e in enumerate(events, start=1)]
    projector = ShoppingProjector()
    # when: all but the outcome, then the outcome
    projector.apply(envelopes)
    in_flight = OrderView.objects.get(id=order.id)
    attempt = shop.get_order(order.id).payment_attempt
    assert attempt is not None
    shop.pay_order(order.id, charge_id="ch_2", attempt_id=attempt["attempt_id"], context=CONTEXT)
    paid_event = list(shop.events.get(order.id))[-1]
    projector.apply([to_envelope(paid_event, position=len(events) + 1)])
    AuditProjector().apply([*envelopes, to_envelope(paid_event, position=len(events) + 1)])
    # then
    paid = OrderView.objects.get(id=order.id)
    assert [e["type"] for e in envelopes] == [
        "OrderPlaced",
        "OrderPaymentStarted",
        "OrderPaymentFailed",
        "OrderPaymentStarted",
        "OrderPaymentResumed",
    ]
    assert (in_flight.status, in_flight.payment, in_flight.version) == (
        "pending_payment",
        "pending",
        5,
    )
    assert (paid.status, paid.payment, paid.version) == ("paid", "captured", 6)
    assert [h.status for h in paid.history.all()] == ["pending_payment", "paid"]
    started = AuditEvent.objects.get(aggregate_id=order.id, version=2)
    assert started.data == {
        "attempt_id": envelopes[1]["data"]["attempt_id"],
        "amount": "25.00",
        "currency": "USD",
    }


def test_an_authorisation_stays_in_flight_and_a_voided_attempt_is_shown_with_its_actor() -> None:
    # given: an attempt authorised, then one voided, in memory
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    mug = create_product(shop, price=Decimal("5.00"), stock=3, context=CONTEXT).id
    customer = uuid4()
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    system = CommandContext(actor_role="system", request_id="reconciliation-1")
    attempt = shop.begin_payment(
        order.id,
        now=shop.get_order(order.id).modified_on,
        resume_after=timedelta(seconds=60),
        context=CONTEXT,
    )
    shop.record_payment_authorised(
        order.id, attempt_id=attempt.attempt_id, charge_id="ch_1", context=CONTEXT
    )
    envelopes = [to_envelope(e, position=n) for n, e in enumerate(shop.events.get(order.id), 1)]
    ShoppingProjector().apply(envelopes)
    authorised = OrderView.objects.get(id=order.id)
    shop.record_payment_voided(
        order.id, attempt_id=attempt.attempt_id, charge_id="ch_1", reason="test", context=system
    )
    voided = to_envelope(list(shop.events.get(order.id))[-1], position=len(envelopes) + 1)
    # when
    ShoppingProjector().apply([voided])
    AuditProjector().apply([*envelopes, voided])
    # then
    assert [e["type"] for e in envelopes[-2:]] == ["OrderPaymentStarted", "OrderPaymentAuthorised"]
    assert (authorised.status, authorised.payment) == ("pending_payment", "pending")
    row = OrderView.objects.get(id=order.id)
    assert (row.status, row.payment, row.version) == ("pending_payment", "voided", 4)
    audit = AuditEvent.objects.get(aggregate_id=order.id, version=4)
    assert (audit.type, audit.actor_role) == ("OrderPaymentVoided", "system")
    assert audit.data == {
        "attempt_id": str(attempt.attempt_id),
        "charge_id": "ch_1",
        "reason": "test",
    }
