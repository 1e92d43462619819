"""Selectors over the audit log: timelines, audit search, the event feed, orders as of a time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.db.models import Q, QuerySet

from contracts import event_types as events
from contracts import payloads
from contracts.envelope import ORDER_CONCERNS
from contracts.schemas import current_data
from projections.audit.models import AuditEvent, concerned_order
from projections.shopping.models import OrderView
from projections.shopping.order_status import PENDING_PAYMENT, status_after
from projections.shopping.refunds import REFUND_EVENTS, fold_refund, given_back_status
from read_api.event_export import CompletePart, EventFilters, complete_part
from read_api.personal_data import pseudonymised


def event_body(event: AuditEvent, personal_key: bytes | None = None) -> dict[str, Any]:
    """The event as the read API shows it; with `personal_key`, its personal data
    pseudonymised (read_api.personal_data)."""
    # Rows an older projector wrote keep their schema: shown in today's.
    data = current_data(event.type, event.schema, event.data)
    if personal_key is not None:
        data = pseudonymised(event.type, data, personal_key)
    return {
        "position": event.position,
        "event_id": str(event.event_id),
        "aggregate_type": event.aggregate_type,
        "aggregate_id": str(event.aggregate_id),
        "version": event.version,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": {"id": event.actor_id or None, "role": event.actor_role or None},
        "request_id": event.request_id or None,
        "data": data,
    }


def order_visible_to(user: Any, order_id: UUID) -> bool:
    """Owners and admins may look into an order's history; others learn nothing."""
    if user.role == "admin":
        return OrderView.objects.filter(id=order_id).exists() or order_events(order_id).exists()
    return OrderView.objects.filter(id=order_id, customer_id=user.id).exists()


def order_events(order_id: UUID, until: datetime | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(aggregate_type="Order", aggregate_id=order_id)
    return events.filter(occurred_at__lte=until) if until else events


def order_timeline(order_id: UUID) -> QuerySet[AuditEvent]:
    """The order's own events and those of aggregates concerning it (its escalations), in
    store order."""
    own = Q(aggregate_type="Order", aggregate_id=order_id)
    concerning = Q(aggregate_type__in=ORDER_CONCERNS, concerned_order=str(order_id))
    return (
        AuditEvent.objects.annotate(concerned_order=concerned_order())
        .filter(own | concerning)
        .order_by("position")
    )


def audit_search(
    *,
    aggregate_id: UUID | None,
    actor_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> QuerySet[AuditEvent]:
    events = EventFilters(aggregate_id=aggregate_id, since=since, until=until).apply(
        AuditEvent.objects.all()
    )
    if actor_id:
        events = events.filter(actor_id=actor_id)
    return events.order_by("position")


def event_feed(*, after: int, limit: int, filters: EventFilters) -> CompletePart:
    """A page of the feed, ending before the audit log's first hole (read_api.event_export)."""
    events = filters.apply(AuditEvent.objects.filter(position__gt=after))
    return complete_part(after, list(events.order_by("position")[:limit]))


def order_as_of(order_id: UUID, when: datetime) -> dict[str, Any] | None:
    """The order rebuilt from its events up to `when` (None if it did not exist yet)."""
    state: dict[str, Any] | None = None
    for event in order_events(order_id, when).order_by("version"):
        # Rows an older projector wrote keep their schema: read them in today's.
        data = current_data(event.type, event.schema, event.data)
        if event.type == events.ORDER_PLACED:
            placed = cast(payloads.OrderPlaced, data)
            state = {
                "id": str(order_id),
                "status": PENDING_PAYMENT,
                "total": placed["total"],
                "currency": placed["currency"],
                "items": [
                    {
                        "product_id": line["product_id"],
                        "name": line["name"],
                        "unit_price": line["unit_price"],
                        "quantity": line["quantity"],
                        "category_id": line["category_id"],
                    }
                    for line in placed["lines"]
                ],
                "shipping_address": placed["shipping_address"],
                "status_history": [],
                "payment_status": "unpaid",
                "refunded_total": "0.00",
                "refunds": {},
                "fulfilments": {},
            }
        if state is None:
            continue
        _fold_payment(state, event)
        _fold_fulfilment(state["fulfilments"], event)
        status = status_after(event.type, data)
        if status:
            state["status"] = status
            state["status_history"].append(
                {
                    "status": status,
                    "at": event.occurred_at.isoformat(),
                    "by": event.actor_id or None,
                }
            )
        state["version"] = event.version
        state["as_of"] = when.isoformat()
    if state is not None:
        state["refunds"] = list(state["refunds"].values())
        state["fulfilments"] = list(state["fulfilments"].values())
    return state


def _fold_fulfilment(parcels: dict[str, dict[str, Any]], event: AuditEvent) -> None:
    """The parcels an event leaves the order with, shaped as the order read model's."""
    at = event.occurred_at.isoformat()
    if event.type == events.ORDER_FULFILLED:
        shipped = cast(payloads.OrderFulfilled, event.data)
        parcels[shipped["fulfilment_id"]] = {
            "id": shipped["fulfilment_id"],
            "product_ids": shipped["product_ids"],
            "status": "shipped",
            "carrier": shipped["carrier"],
            "tracking_number": shipped["tracking_number"],
            "shipped_at": at,
            "delivered_at": None,
        }
    elif event.type == events.ORDER_FULFILMENT_DELIVERED:
        delivered = cast(payloads.OrderFulfilmentDelivered, event.data)
        parcel = parcels.get(delivered["fulfilment_id"])
        if parcel is not None:
            parcel.update(status="delivered", delivered_at=at)


def _fold_payment(state: dict[str, Any], event: AuditEvent) -> None:
    """The payment status, refunded total and refunds an event leaves the order with."""
    if event.type == events.ORDER_PAID:
        state["payment_status"] = "paid"
    elif event.type in REFUND_EVENTS:
        at = event.occurred_at.isoformat()
        envelope = {"type": event.type, "data": event.data, "occurred_at": at}
        refunded = Decimal(state["refunded_total"]) + fold_refund(state["refunds"], envelope)
        state["refunded_total"] = str(refunded)
        state["payment_status"] = given_back_status(refunded, Decimal(state["total"]))


def event_count(filters: EventFilters, *, after: int) -> int:
    """How many events an export after `after` holds (for its progress and ETA)."""
    return filters.apply(AuditEvent.objects.filter(position__gt=after)).count()
