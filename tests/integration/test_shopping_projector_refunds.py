"""The order read model folds refunds: payment status, refunded total and each refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest

from projections.shopping.models import OrderRefundView, OrderView
from projections.shopping.projector import ShoppingProjector
from read_api.orders import order_get_tracking
from tests.support.gateways import RecordingGateway
from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.paying import Payments
from write_api.payments.gateway import RefundStatus
from write_api.published_events import to_envelope
from write_api.refunding import RefundDeclined, Refunds

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
ADMIN = CommandContext(actor_id="admin-1", actor_role="admin")


def paid_order(shop: Shop, gateway: RecordingGateway) -> UUID:
    """A 50.00 order, paid with tok_ok, in memory."""
    mug = create_product(shop, price=Decimal("10.00"), stock=5).id
    customer = uuid4()
    shop.add_to_cart(customer_id=customer, product_id=mug, quantity=5, context=ADMIN)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=ADMIN)
    payments = Payments(shop, gateway, resume_after=timedelta(seconds=60))
    payments.pay_order_with_token(order.id, customer_id=customer, token="tok_ok", context=ADMIN)
    return order.id


def envelopes(shop: Shop, order_id: UUID) -> list[dict[str, Any]]:
    events = list(shop.events.get(order_id))
    return [to_envelope(e, position=n) for n, e in enumerate(events, start=1)]


def test_refunds_move_the_payment_status_and_each_refund_row() -> None:
    # given: a paid order projected
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    gateway = RecordingGateway()
    refunds = Refunds(shop, gateway)
    order_id = paid_order(shop, gateway)
    projector = ShoppingProjector()
    projector.apply(envelopes(shop, order_id))
    paid = OrderView.objects.get(id=order_id)
    # when: one refund succeeds, one is pending, one fails; projected in two batches
    done = refunds.refund_order(
        order_id, amount=Decimal("20.00"), reason="broken", restock=False, product_ids=None,
        context=ADMIN,
    )  # fmt: skip
    gateway.refund_status = RefundStatus.PENDING
    later = refunds.refund_order(
        order_id, amount=Decimal("10.00"), reason="late", restock=False, product_ids=None,
        context=ADMIN,
    )  # fmt: skip
    gateway.refund_status = RefundStatus.FAILED
    with pytest.raises(RefundDeclined):
        refunds.refund_order(
            order_id, amount=Decimal("5.00"), reason="card gone", restock=False,
            product_ids=None, context=ADMIN,
        )  # fmt: skip
    every = envelopes(shop, order_id)
    done_at = every.index(next(e for e in every if e["type"] == "OrderRefundSucceeded"))
    projector.apply(every[:done_at])  # re-delivers the first batch too
    projector.apply(every[done_at:])
    projector.apply(every)  # a re-delivery changes nothing
    # then
    order = OrderView.objects.get(id=order_id)
    assert (paid.payment_status, paid.refunded_total) == ("paid", Decimal("0.00"))
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", Decimal("20.00"))
    assert order.version == every[-1]["version"]
    rows = {
        r.id: (r.amount, r.status, r.reason, r.by, r.by_role)
        for r in OrderRefundView.objects.filter(order_id=order_id)
    }
    assert rows[done.id] == (Decimal("20.00"), "succeeded", "broken", "admin-1", "admin")
    assert rows[later.id] == (Decimal("10.00"), "pending", "late", "admin-1", "admin")
    assert sorted(status for _, status, *_ in rows.values()) == ["failed", "pending", "succeeded"]


def test_refunding_the_whole_total_reads_refunded() -> None:
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    gateway = RecordingGateway()
    order_id = paid_order(shop, gateway)
    Refunds(shop, gateway).refund_order(
        order_id, amount=Decimal("50.00"), reason="all", restock=False, product_ids=None,
        context=ADMIN,
    )  # fmt: skip
    ShoppingProjector().apply(envelopes(shop, order_id))
    order = OrderView.objects.get(id=order_id)
    assert (order.payment_status, order.refunded_total) == ("refunded", Decimal("50.00"))


def test_a_seller_reads_only_the_refunds_of_its_own_lines() -> None:
    # given: a paid order with a 10.00 line of each of two sellers, one refund for each
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    gateway = RecordingGateway()
    sellers = [uuid4(), uuid4()]
    mugs = [create_product(shop, price=Decimal("10.00"), stock=1, seller_id=s).id for s in sellers]
    customer = uuid4()
    for mug in mugs:
        shop.add_to_cart(customer_id=customer, product_id=mug, quantity=1, context=ADMIN)
    order_id = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=ADMIN).id
    payments = Payments(shop, gateway, resume_after=timedelta(seconds=60))
    payments.pay_order_with_token(order_id, customer_id=customer, token="tok_ok", context=ADMIN)
    refunds = Refunds(shop, gateway)
    for seller, mug, amount in zip(sellers, mugs, ("3.00", "4.00"), strict=True):
        refunds.refund_order(
            order_id, amount=Decimal(amount), reason="chipped", restock=False,
            product_ids=[mug], context=ADMIN, seller_id=seller,
        )  # fmt: skip
    ShoppingProjector().apply(envelopes(shop, order_id))
    # when
    first = order_get_tracking(SimpleNamespace(role="seller", id=sellers[0]), order_id)
    admin = order_get_tracking(SimpleNamespace(role="admin", id=uuid4()), order_id)
    # then
    assert first is not None
    assert admin is not None
    assert [(r["amount"], r["status"]) for r in first["refunds"]] == [("3.00", "succeeded")]
    assert (first["refunded_total"], admin["refunded_total"]) == ("3.00", "7.00")
    assert admin["payment_status"] == first["payment_status"] == "partially_refunded"
