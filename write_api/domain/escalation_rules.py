"""What an escalation accepts: its reasons, messages and resolutions (pure checks)."""

from __future__ import annotations

from decimal import Decimal

from write_api.domain.errors import ValidationFailed
from write_api.domain.limits import COMMENT_MAX, ORDER_TOTAL_MAX, text_errors

REASONS = ("not_received", "damaged", "wrong_item", "not_as_described", "other")
OPEN, RESOLVED = "open", "resolved"
STATUSES = (OPEN, RESOLVED)
REFUND, REJECT = "refund", "reject"
RESOLUTIONS = (REFUND, REJECT)
MESSAGE_MAX = COMMENT_MAX


def message_errors(message: object) -> list[str]:
    if not isinstance(message, str):
        return ["Must be text."]
    if not message.strip():
        return ["Must not be empty."]
    return text_errors(message, min_length=1, max_length=MESSAGE_MAX, multiline=True)


def amount_errors(amount: Decimal) -> list[str]:
    """A refund amount is positive money with exactly two places, e.g. "12.50"."""
    if not amount.is_finite() or amount.as_tuple().exponent != -2:
        return ['Must be a decimal with exactly two places, e.g. "12.50".']
    if not Decimal("0.01") <= amount <= ORDER_TOTAL_MAX:
        return [f"Must be 0.01 to {ORDER_TOTAL_MAX}."]
    return []


def check_resolution(
    *, resolution: str, amount: Decimal | None, restock: bool | None, message: str
) -> None:
    """A refund names its amount; a rejection has neither amount nor restock (400 if not)."""
    errors: dict[str, list[str]] = {}
    if resolution not in RESOLUTIONS:
        errors["resolution"] = [f"Must be one of: {', '.join(RESOLUTIONS)}."]
    elif resolution == REFUND and amount is None:
        errors["amount"] = ["A refund needs an amount."]
    elif resolution == REFUND and amount is not None and (found := amount_errors(amount)):
        errors["amount"] = found
    elif resolution == REJECT:
        if amount is not None:
            errors["amount"] = ["A rejection refunds nothing: leave the amount out."]
        if restock is not None:
            errors["restock"] = ["A rejection restocks nothing: leave restock out."]
    if found := message_errors(message):
        errors["message"] = found
    if errors:
        raise ValidationFailed("The resolution is invalid.", errors)
