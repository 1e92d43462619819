"""The customer's emails about their escalations: one when it opens, one when it is resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from contracts import event_types as events
from contracts import payloads
from projections.notifications.emails import Email

OPENED, RESOLVED = "escalation_opened", "escalation_resolved"


def escalation_email_task(envelope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The email task's arguments for an escalation event, None if it sends nothing.

    The task carries what the email says: the customer is found through the order row, which
    the shopping projector wrote long before, so the email never waits for a fresher read model.
    """
    if envelope["type"] not in (events.ESCALATION_OPENED, events.ESCALATION_RESOLVED):
        return None
    base = {"event_id": envelope["event_id"], "order_id": envelope["data"]["order_id"]}
    details = {"escalation_id": envelope["aggregate_id"]}
    if envelope["type"] == events.ESCALATION_OPENED:
        opened = cast(payloads.EscalationOpened, envelope["data"])
        return {**base, "kind": OPENED, "details": {**details, "reason": opened["reason"]}}
    resolved = cast(payloads.EscalationResolved, envelope["data"])
    refund = resolved["refund"]
    details |= {"resolution": resolved["resolution"], "message": resolved["message"]}
    if refund is not None:
        details["amount"] = refund["amount"]
    return {**base, "kind": RESOLVED, "details": details}


def escalation_email(kind: str, order_id: str, details: Mapping[str, str]) -> Email:
    short, reference = order_id[:8], details["escalation_id"]
    if kind == OPENED:
        reason = details["reason"].replace("_", " ")
        return Email(
            f"Order {short}: we received your request",
            f"Your escalation about order {order_id} ({reason}) is open; an admin will look "
            f"into it and answer you. Reference: {reference}.",
        )
    if kind == RESOLVED:
        if details["resolution"] == "refund":
            outcome = f"we are refunding {details['amount']}."
        else:
            outcome = "we could not grant a refund."
        return Email(
            f"Order {short}: your request is resolved",
            f"Your escalation about order {order_id} is resolved: {outcome}\n\n"
            f"{details['message']}\n\nReference: {reference}.",
        )
    raise ValueError(f"no email for {kind}")
