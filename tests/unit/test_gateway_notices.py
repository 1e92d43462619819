"""A verified webhook body is still validated like user input before anything is stored."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from write_api.domain.errors import ValidationFailed
from write_api.payments.notices import (
    ChargeNotice,
    GatewayNotice,
    RefundNotice,
    parse_gateway_event,
)

ORDER = "6f1c1f8e-7a52-4d1c-9d55-3f1f0e0c5a10"
ATTEMPT = "0b7e4c55-94f4-4a3f-b1f3-2a1d1f0c9e11"


def body(**data: Any) -> dict[str, Any]:
    fields = {
        "charge_id": "ch_abc",
        "reference": ORDER,
        "amount": "25.00",
        "currency": "USD",
        "metadata": {"attempt_id": ATTEMPT},
    }
    fields.update(data)
    return {"id": "evt_1", "type": "charge.succeeded", "data": fields}


def parse(event: Any) -> GatewayNotice:
    return parse_gateway_event(json.dumps(event).encode())


def test_a_charge_event_becomes_a_typed_notice() -> None:
    assert parse(body()) == ChargeNotice(
        "evt_1",
        "charge.succeeded",
        charge_id="ch_abc",
        order_id=UUID(ORDER),
        amount=Decimal("25.00"),
        currency="USD",
        attempt_id=UUID(ATTEMPT),
        succeeded=True,
        reason="",
    )


def test_a_failed_charge_keeps_its_reason_and_an_unhandled_type_only_its_id() -> None:
    failed = parse({**body(reason="card expired"), "type": "charge.failed"})
    assert isinstance(failed, ChargeNotice)
    assert (failed.succeeded, failed.reason) == (False, "card expired")
    unexplained = parse({**body(reason=None), "type": "charge.failed"})
    assert isinstance(unexplained, ChargeNotice)
    assert unexplained.reason == ""
    other = parse({"id": "evt_2", "type": "charge.dispute.created", "data": {"anything": "\u0000"}})
    assert other == GatewayNotice("evt_2", "charge.dispute.created")


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (body(charge_id="ch_\u0000x"), "data.charge_id"),
        (body(reason="declined\u0000"), "data.reason"),
        (body(reason="\ud800"), "data.reason"),
        (body(reason="x" * 201), "data.reason"),
        (body(charge_id="c" * 101), "data.charge_id"),
        (body(charge_id="ch 1"), "data.charge_id"),
        (body(charge_id=7), "data.charge_id"),
        ({**body(), "id": "evt_\u0000"}, "id"),
        ({**body(), "type": "charge.\u0000"}, "type"),
        (body(amount="0.1"), "data.amount"),
        (body(amount=25), "data.amount"),
        (body(amount="1e3"), "data.amount"),
        (body(amount="\u0661\u0662.00"), "data.amount"),
        (body(amount=None), "data.amount"),
        (body(currency="usd"), "data.currency"),
        (body(currency=None), "data.currency"),
        (body(reference="not-a-uuid"), "data.reference"),
        (body(metadata={"attempt_id": "x"}), "data.metadata.attempt_id"),
    ],
)
def test_dirty_ids_and_malformed_money_are_refused_naming_the_field(
    event: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(event)
    assert list(refused.value.details) == [field]


@pytest.mark.parametrize("raw", [b"[]", b"not json", b'"evt"', b"null"])
def test_a_body_that_is_not_an_object_is_refused(raw: bytes) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_gateway_event(raw)
    assert refused.value.details == {"body": ["Not a JSON object."]}


def test_a_body_nested_past_the_json_parsers_depth_is_malformed_not_a_crash() -> None:
    # given a verified body of 100,000 nested arrays
    raw = b"[" * 100_000 + b"]" * 100_000
    # when / then
    with pytest.raises(ValidationFailed) as refused:
        parse_gateway_event(raw)
    assert refused.value.details == {"body": ["Not a JSON object."]}


REFUND = "3c0f0d4e-1b2a-4c5d-8e9f-0a1b2c3d4e5f"


def refund_body(**data: Any) -> dict[str, Any]:
    fields = {
        "refund_id": "re_abc",
        "charge_id": "ch_abc",
        "reference": ORDER,
        "amount": "10.00",
        "currency": "USD",
        "metadata": {"refund_id": REFUND, "order_id": ORDER},
    }
    fields.update(data)
    return {"id": "evt_r1", "type": "charge.refunded", "data": fields}


def test_a_refund_event_becomes_a_typed_notice() -> None:
    assert parse(refund_body()) == RefundNotice(
        "evt_r1",
        "charge.refunded",
        gateway_refund_id="re_abc",
        charge_id="ch_abc",
        order_id=UUID(ORDER),
        refund_id=UUID(REFUND),
        amount=Decimal("10.00"),
        currency="USD",
        succeeded=True,
        reason="",
    )


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (refund_body(refund_id="re \u0000"), "data.refund_id"),
        (refund_body(amount="10"), "data.amount"),
        (refund_body(metadata={}), "data.metadata.refund_id"),
        (refund_body(metadata={"refund_id": "nope"}), "data.metadata.refund_id"),
        (refund_body(reference=None), "data.reference"),
        (refund_body(reason="\u0000"), "data.reason"),
    ],
)
def test_a_malformed_refund_event_is_refused_naming_the_field(
    event: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(event)
    assert field in refused.value.details
