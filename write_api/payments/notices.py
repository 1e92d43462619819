"""A gateway webhook body, validated like any user input before anything is stored.

A valid signature proves who sent a body, not that it is sane: ids are bounded and
drawn from a safe character set (no NUL, nothing a read model cannot store), money is
a two-place decimal and a currency code. Anything else is refused as malformed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from write_api.domain.errors import DomainError, NotFound, ValidationFailed

SETTLING = {"charge.succeeded": True, "charge.failed": False}
REFUNDING = {"charge.refunded": True, "charge.refund_failed": False}
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}", re.ASCII)
_TYPE = re.compile(r"[a-z0-9_.]{1,100}", re.ASCII)
_AMOUNT = re.compile(r"\d{1,12}\.\d{2}", re.ASCII)
_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.I)
REASON_MAX = 200


@dataclass(frozen=True)
class GatewayNotice:
    """Any gateway event: its id and type, clean enough to be recorded."""

    event_id: str
    type: str


@dataclass(frozen=True)
class ChargeNotice(GatewayNotice):
    """The gateway's verdict on one charge of one order."""

    charge_id: str
    order_id: UUID
    amount: Decimal
    currency: str
    attempt_id: UUID | None
    succeeded: bool
    reason: str


def parse_gateway_event(raw: bytes) -> GatewayNotice:
    """The notice in a verified body; ValidationFailed naming every bad field otherwise."""
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):  # signed, yet nested past the parser's depth
        event = None
    if not isinstance(event, dict):
        raise _malformed({"body": ["Not a JSON object."]})
    errors: dict[str, list[str]] = {}
    event_id = _text(event, "id", _ID, errors)
    kind = _text(event, "type", _TYPE, errors)
    if kind in REFUNDING and not errors:
        return _refund_notice(event_id, kind, event.get("data"))
    if kind not in SETTLING:
        if errors:
            raise _malformed(errors)
        return GatewayNotice(event_id, kind)
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    charge_id = _text(data, "charge_id", _ID, errors, "data.")
    reference = _text(data, "reference", _UUID, errors, "data.")
    amount = _text(data, "amount", _AMOUNT, errors, "data.")
    currency = _text(data, "currency", _CURRENCY, errors, "data.")
    attempt = _text(metadata, "attempt_id", _UUID, errors, "data.metadata.", optional=True)
    reason = data.get("reason")
    reason = "" if reason is None else reason
    if not isinstance(reason, str) or len(reason) > REASON_MAX or not reason.isprintable():
        errors["data.reason"] = [f"At most {REASON_MAX} printable characters."]
    if errors:
        raise _malformed(errors)
    return ChargeNotice(
        event_id,
        kind,
        charge_id=charge_id,
        order_id=UUID(reference),
        amount=Decimal(amount),
        currency=currency,
        attempt_id=UUID(attempt) if attempt else None,
        succeeded=SETTLING[kind],
        reason=reason,
    )


@dataclass(frozen=True)
class RefundNotice(GatewayNotice):
    """The gateway's verdict on one refund of one order's charge."""

    gateway_refund_id: str
    charge_id: str
    order_id: UUID
    refund_id: UUID  # ours, echoed from the refund's metadata
    amount: Decimal
    currency: str
    succeeded: bool
    reason: str


def _refund_notice(event_id: str, kind: str, data: Any) -> RefundNotice:
    errors: dict[str, list[str]] = {}
    data = data if isinstance(data, dict) else {}
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    gateway_refund_id = _text(data, "refund_id", _ID, errors, "data.")
    charge_id = _text(data, "charge_id", _ID, errors, "data.")
    reference = _text(data, "reference", _UUID, errors, "data.")
    amount = _text(data, "amount", _AMOUNT, errors, "data.")
    currency = _text(data, "currency", _CURRENCY, errors, "data.")
    refund_id = _text(metadata, "refund_id", _UUID, errors, "data.metadata.")
    reason = _reason(data, errors)
    if errors:
        raise _malformed(errors)
    return RefundNotice(
        event_id,
        kind,
        gateway_refund_id=gateway_refund_id,
        charge_id=charge_id,
        order_id=UUID(reference),
        refund_id=UUID(refund_id),
        amount=Decimal(amount),
        currency=currency,
        succeeded=REFUNDING[kind],
        reason=reason,
    )


def _reason(data: dict[str, Any], errors: dict[str, list[str]]) -> str:
    reason = data.get("reason")
    reason = "" if reason is None else reason
    if not isinstance(reason, str) or len(reason) > REASON_MAX or not reason.isprintable():
        errors["data.reason"] = [f"At most {REASON_MAX} printable characters."]
        return ""
    return reason


def _text(
    source: dict[str, Any],
    key: str,
    pattern: re.Pattern[str],
    errors: dict[str, list[str]],
    prefix: str = "",
    *,
    optional: bool = False,
) -> str:
    value = source.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        errors[prefix + key] = [f"Must match {pattern.pattern}."]
        return ""
    return value


def _malformed(errors: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed("The webhook body is not a valid gateway event.", errors)


def answer_notice(settle: Callable[[], bool], refuse: Callable[[str], str]) -> str:
    """What to record for a verified notice: "applied", "already_recorded" (`settle` changed
    nothing) or `refuse(code)` when it does not match the order, which stays as it was."""
    try:
        changed = settle()
    except NotFound:
        return refuse("unknown_order")
    except DomainError as refused:
        if refused.transient:
            raise  # not an answer: nothing is recorded, and the gateway delivers it again
        return refuse(refused.code)
    return "applied" if changed else "already_recorded"
