"""The published language: the JSON envelope and topic names shared by relay and projectors.

Only this module crosses from the write side to the read side. It turns a stored
domain event into the envelope described in ARCHITECTURE.md and names the Kafka
topics, so producers and consumers cannot drift apart.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.domain import CanMutateAggregate

EVENT_ID_NAMESPACE = uuid.UUID("6f1c1f8e-7a52-4d1c-9d55-3f1f0e0c5a10")
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
        "correlation_id",
        "causation_id",
        "data",
    }
)
AGGREGATE_TYPES = ("Product", "CategoryTree", "Account", "Cart", "Order", "Review", "Purchases")
_NOT_DATA = {"originator_id", "originator_version", "timestamp", "originator_topic", "metadata"}


def topic_name(prefix: str, aggregate_type: str) -> str:
    """Kafka topic carrying one aggregate type's events, e.g. `shopstream.product.events`."""
    return f"{prefix}{aggregate_type.lower()}.events"


def event_id(aggregate_id: uuid.UUID | str, version: int) -> str:
    """Stable id of one event, identical each time it is re-published."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}"))


def to_envelope(event: CanMutateAggregate[Any], position: int) -> dict[str, Any]:
    """The JSON-ready envelope of a stored event at notification-log `position`."""
    aggregate_type, _, event_name = type(event).__qualname__.partition(".")
    metadata: dict[str, Any] = getattr(event, "metadata", None) or {}
    data = {k: _jsonable(v) for k, v in vars(event).items() if k not in _NOT_DATA}
    return {
        "event_id": event_id(event.originator_id, event.originator_version),
        "position": position,
        "aggregate_type": aggregate_type,
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "type": f"{aggregate_type}{event_name}",
        "schema": getattr(type(event), "class_version", 1),
        "occurred_at": event.timestamp.isoformat(),
        "actor": {"id": metadata.get("actor_id"), "role": metadata.get("actor_role")},
        "request_id": metadata.get("request_id"),
        "correlation_id": metadata.get("correlation_id"),
        "causation_id": metadata.get("causation_id"),
        "data": data,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
