"""Asking the gateway about a pending refund whose webhook was lost, on the in-memory store."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from tests.support.gateways import RecordingGateway
from tests.support.shop_data import CONTEXT
from tests.unit.test_refunding import paid_order, refund
from write_api.application import Shop
from write_api.payments.gateway import GatewayUnavailable, RefundStatus
from write_api.refunding import Refunds, refund_key

D = Decimal


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def refunds(shop: Shop, gateway: RecordingGateway) -> Refunds:
    return Refunds(shop, gateway)


def pending(shop: Shop, gateway: RecordingGateway, refunds: Refunds) -> tuple[UUID, UUID]:
    """A paid 50.00 order with a refund of 15.00 pending at the gateway."""
    order_id, _ = paid_order(shop, gateway)
    gateway.refund_status = RefundStatus.PENDING
    held = refund(refunds, order_id, "15.00")
    return order_id, held.id  # type: ignore[attr-defined]


def gateway_says(gateway: RecordingGateway, refund_id: UUID, status: RefundStatus) -> None:
    key = refund_key(refund_id)
    gateway.refunds[key] = replace(gateway.refunds[key], status=status, failure_reason="closed")


def test_a_refund_the_gateway_settled_is_recorded_once(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given
    order_id, refund_id = pending(shop, gateway, refunds)
    gateway_says(gateway, refund_id, RefundStatus.SUCCEEDED)
    # when
    first = refunds.reconcile_refund(order_id, refund_id, context=CONTEXT)
    again = refunds.reconcile_refund(order_id, refund_id, context=CONTEXT)
    # then
    assert (first, again) == ("refund_succeeded", "refund_settled")
    order = shop.get_order(order_id)
    assert (order.payment_status, order.refunded_total) == ("partially_refunded", D("15.00"))


def test_a_refund_the_gateway_refused_frees_its_amount(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    order_id, refund_id = pending(shop, gateway, refunds)
    gateway_says(gateway, refund_id, RefundStatus.FAILED)
    assert refunds.reconcile_refund(order_id, refund_id, context=CONTEXT) == "refund_declined"
    order = shop.get_order(order_id)
    assert (order.refunds[refund_id]["status"], order.refundable) == ("failed", D("50.00"))


def test_a_refund_still_pending_or_unreachable_changes_nothing(
    shop: Shop, gateway: RecordingGateway, refunds: Refunds
) -> None:
    # given
    order_id, refund_id = pending(shop, gateway, refunds)
    version = shop.get_order(order_id).version
    # when
    still = refunds.reconcile_refund(order_id, refund_id, context=CONTEXT)
    gateway.refunds_unreachable = True
    with pytest.raises(GatewayUnavailable):
        refunds.reconcile_refund(order_id, refund_id, context=CONTEXT)
    # then
    assert still == "refund_pending"
    assert shop.get_order(order_id).version == version
