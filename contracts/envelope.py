"""The JSON envelope every published event travels in, and the topics that carry it."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

ENVELOPE_KEYS = frozenset(
    {
        "event_id",
        "position",
        "aggregate_type",
        "aggregate_id",
        "version",
        "type",
        "schema",
        "occurred_at",
        "actor",
        "request_id",
        "correlation_id",
        "causation_id",
        "data",
    }
)
# Keys a reader may find, but must not require (events stored before they existed lack them).
OPTIONAL_ENVELOPE_KEYS = frozenset({"traceparent"})
AGGREGATE_TYPES = (
    "Product",
    "CategoryTree",
    "Account",
    "Cart",
    "Order",
    "Review",
    "Purchases",
    "Escalation",
)
# Aggregates whose events concern one order, named by `data["order_id"]`: its timeline shows them.
ORDER_CONCERNS = ("Escalation",)


class Actor(TypedDict):
    id: str | None
    role: str | None


class Envelope(TypedDict):
    """One published event; `data` is the payload of its `type` (contracts.payloads)."""

    event_id: str
    position: int
    aggregate_type: str
    aggregate_id: str
    version: int
    type: str
    schema: int
    occurred_at: str
    actor: Actor
    request_id: str | None
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]
    # W3C trace context: the command's span in the store; a consumer of Kafka sees the
    # relay's produce span (its `traceparent` header, same trace) here instead.
    traceparent: NotRequired[str | None]


def topic_name(prefix: str, aggregate_type: str) -> str:
    """Kafka topic carrying one aggregate type's events, e.g. `shopstream.product.events`."""
    return f"{prefix}{aggregate_type.lower()}.events"
