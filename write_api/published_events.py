"""The write side's end of the published language (contracts/): stored domain events as
envelopes.

It maps each domain event class to its declared type name and turns a stored event into the
envelope described in ARCHITECTURE.md. Readers of the event store (the relay, the catalog
rebuild) need only an EventLog: the application's recorder and mapper.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate, DomainEventProtocol
from eventsourcing.persistence import ApplicationRecorder, Mapper

from contracts import event_types as events
from contracts.envelope import (
    AGGREGATE_TYPES,
    ENVELOPE_KEYS,
    OPTIONAL_ENVELOPE_KEYS,
    topic_name,
)
from contracts.event_types import ORDER_EVENT_TYPES
from write_api.domain.account import Account
from write_api.domain.cart import Cart
from write_api.domain.category import CategoryTree
from write_api.domain.escalation import Escalation
from write_api.domain.order import Order
from write_api.domain.product import Product
from write_api.domain.review import Purchases, Review

EVENT_ID_NAMESPACE = uuid.UUID("6f1c1f8e-7a52-4d1c-9d55-3f1f0e0c5a10")


def _event(aggregate: type[Aggregate], name: str) -> type[Any]:
    """An event class the library made from an `@event` method (invisible to type checkers)."""
    event_class: type[Any] = getattr(aggregate, name)
    return event_class


AGGREGATES: tuple[type[Aggregate], ...] = (
    Product,
    CategoryTree,
    Account,
    Cart,
    Order,
    Review,
    Purchases,
    Escalation,
)
# The name each domain event is published under. A new event class needs a line here (and
# a name in contracts.event_types); tests/unit/test_published_events.py fails until it has.
PUBLISHED_TYPES: dict[type[Any], str] = {
    _event(Account, "Created"): events.ACCOUNT_CREATED,
    _event(Account, "Deactivated"): events.ACCOUNT_DEACTIVATED,
    _event(Account, "Reactivated"): events.ACCOUNT_REACTIVATED,
    _event(Account, "RoleChanged"): events.ACCOUNT_ROLE_CHANGED,
    _event(Cart, "Created"): events.CART_CREATED,
    _event(Cart, "QuantitySet"): events.CART_QUANTITY_SET,
    _event(Cart, "ItemRemoved"): events.CART_ITEM_REMOVED,
    _event(Cart, "CheckedOut"): events.CART_CHECKED_OUT,
    _event(CategoryTree, "Created"): events.CATEGORY_TREE_CREATED,
    _event(CategoryTree, "CategoryAdded"): events.CATEGORY_TREE_CATEGORY_ADDED,
    _event(CategoryTree, "CategoryRenamed"): events.CATEGORY_TREE_CATEGORY_RENAMED,
    _event(CategoryTree, "CategoryMoved"): events.CATEGORY_TREE_CATEGORY_MOVED,
    _event(Escalation, "Opened"): events.ESCALATION_OPENED,
    _event(Escalation, "MessagePosted"): events.ESCALATION_MESSAGE_POSTED,
    _event(Escalation, "RefundStarted"): events.ESCALATION_REFUND_STARTED,
    _event(Escalation, "RefundAbandoned"): events.ESCALATION_REFUND_ABANDONED,
    _event(Escalation, "Resolved"): events.ESCALATION_RESOLVED,
    _event(Order, "Placed"): events.ORDER_PLACED,
    _event(Order, "PaymentStarted"): events.ORDER_PAYMENT_STARTED,
    _event(Order, "PaymentResumed"): events.ORDER_PAYMENT_RESUMED,
    _event(Order, "PaymentPending"): events.ORDER_PAYMENT_PENDING,
    _event(Order, "PaymentFailed"): events.ORDER_PAYMENT_FAILED,
    _event(Order, "PaymentAuthorised"): events.ORDER_PAYMENT_AUTHORISED,
    _event(Order, "PaymentVoided"): events.ORDER_PAYMENT_VOIDED,
    _event(Order, "Paid"): events.ORDER_PAID,
    _event(Order, "StatusChanged"): events.ORDER_STATUS_CHANGED,
    _event(Order, "Cancelled"): events.ORDER_CANCELLED,
    _event(Order, "Fulfilled"): events.ORDER_FULFILLED,
    _event(Order, "FulfilmentDelivered"): events.ORDER_FULFILMENT_DELIVERED,
    _event(Order, "RefundRequested"): events.ORDER_REFUND_REQUESTED,
    _event(Order, "RefundPending"): events.ORDER_REFUND_PENDING,
    _event(Order, "RefundSucceeded"): events.ORDER_REFUND_SUCCEEDED,
    _event(Order, "RefundFailed"): events.ORDER_REFUND_FAILED,
    _event(Product, "Created"): events.PRODUCT_CREATED,
    _event(Product, "DetailsChanged"): events.PRODUCT_DETAILS_CHANGED,
    _event(Product, "Repriced"): events.PRODUCT_REPRICED,
    _event(Product, "Recategorized"): events.PRODUCT_RECATEGORIZED,
    _event(Product, "StockAdjusted"): events.PRODUCT_STOCK_ADJUSTED,
    _event(Product, "Reserved"): events.PRODUCT_RESERVED,
    _event(Product, "ReservationReleased"): events.PRODUCT_RESERVATION_RELEASED,
    _event(Product, "Sold"): events.PRODUCT_SOLD,
    _event(Product, "Discontinued"): events.PRODUCT_DISCONTINUED,
    _event(Product, "Restocked"): events.PRODUCT_RESTOCKED,
    _event(Purchases, "Created"): events.PURCHASES_CREATED,
    _event(Purchases, "OrderPaid"): events.PURCHASES_ORDER_PAID,
    _event(Review, "Created"): events.REVIEW_CREATED,
}
# Defined by the library but never recorded: an Order begins with Placed, an Escalation
# with Opened.
NEVER_RECORDED: frozenset[type[Any]] = frozenset(
    {_event(Order, "Created"), _event(Escalation, "Created")}
)


class EventLog(Protocol):
    """What reads the stored events needs of the application: its recorder and mapper."""

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...


_NOT_DATA = {"originator_id", "originator_version", "timestamp", "originator_topic", "metadata"}


def event_id(aggregate_id: uuid.UUID | str, version: int) -> str:
    """Stable id of one event, identical each time it is re-published."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}"))


def to_envelope(event: DomainEventProtocol[Any], position: int) -> dict[str, Any]:
    """The JSON-ready envelope of a stored event at notification-log `position`."""
    if not isinstance(event, CanMutateAggregate):
        raise TypeError(f"{type(event).__qualname__} is no aggregate event")
    aggregate_type = type(event).__qualname__.partition(".")[0]
    metadata: dict[str, Any] = getattr(event, "metadata", None) or {}
    data = {k: _jsonable(v) for k, v in vars(event).items() if k not in _NOT_DATA}
    return {
        "event_id": event_id(event.originator_id, event.originator_version),
        "position": position,
        "aggregate_type": aggregate_type,
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "type": PUBLISHED_TYPES[type(event)],
        "schema": getattr(type(event), "class_version", 1),
        "occurred_at": event.timestamp.isoformat(),
        "actor": {"id": metadata.get("actor_id"), "role": metadata.get("actor_role")},
        "request_id": metadata.get("request_id"),
        "correlation_id": metadata.get("correlation_id"),
        "causation_id": metadata.get("causation_id"),
        "data": data,
        "traceparent": metadata.get("traceparent"),
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


__all__ = [
    "AGGREGATES",
    "AGGREGATE_TYPES",
    "ENVELOPE_KEYS",
    "NEVER_RECORDED",
    "OPTIONAL_ENVELOPE_KEYS",
    "ORDER_EVENT_TYPES",
    "PUBLISHED_TYPES",
    "EventLog",
    "event_id",
    "to_envelope",
    "topic_name",
]
