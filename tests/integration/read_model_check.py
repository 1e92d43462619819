"""Compare every aggregate changed since a position with each read model that shows it.

The event store is the truth: for each event stored after `start`, the audit log holds it;
a product's row and search document, a cart's lines, an order's row and a review's row
equal the aggregate as it is now, at its current version.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from projections.audit.models import AuditEvent
from projections.catalog.models import CategoryView, ProductView, ReviewView
from projections.catalog.search_index import SearchIndex
from projections.escalations.models import EscalationMessageView, EscalationView
from projections.models import ParkedEvent
from projections.shopping.models import CartLineView, CartView, OrderView
from write_api.application import Shop
from write_api.published_events import to_envelope

Envelopes = list[dict[str, Any]]


def unprojected(shop: Shop, index: SearchIndex, start: int) -> list[str]:
    """Every difference between the events stored after `start` and the read models."""
    changed = _changed_since(shop, start)
    problems = _missing_from_audit(changed)
    for (kind, aggregate_id), events in sorted(changed.items()):
        check = CHECKS.get(kind)
        if check is not None:
            problems += check(shop, index, aggregate_id, events)
    parked = ParkedEvent.objects.filter(status="parked", position__gt=start)
    problems += [f"parked {p}: {p.error}" for p in parked]
    return problems


def _changed_since(shop: Shop, start: int) -> dict[tuple[str, str], Envelopes]:
    """(aggregate type, id) -> envelopes of its events stored after `start`."""
    changed: dict[tuple[str, str], Envelopes] = defaultdict(list)
    notifications = shop.recorder.select_notifications(
        start=start, limit=100_000, inclusive_of_start=False
    )
    for notification in notifications:
        envelope = to_envelope(shop.mapper.to_domain_event(notification), notification.id)
        changed[(envelope["aggregate_type"], envelope["aggregate_id"])].append(envelope)
    return changed


def _missing_from_audit(changed: dict[tuple[str, str], Envelopes]) -> list[str]:
    problems = []
    for (kind, aggregate_id), events in changed.items():
        versions = {e["version"] for e in events}
        audited = set(
            AuditEvent.objects.filter(aggregate_id=aggregate_id).values_list("version", flat=True)
        )
        if versions - audited:
            problems.append(f"audit lacks {kind} {aggregate_id} v{sorted(versions - audited)}")
    return problems


def _product(shop: Shop, index: SearchIndex, aggregate_id: str, _: Envelopes) -> list[str]:
    product = shop.get_product(UUID(aggregate_id))
    expected = {
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "stock": product.stock,
        "reserved": product.reserved,
        "discontinued": product.discontinued,
        "category_id": product.category_id,
        "version": product.version,
    }
    row = ProductView.objects.filter(id=aggregate_id).values(*expected).first()
    problems = [] if row == expected else [f"product row {aggregate_id}: {row} != {expected}"]
    found = index.client.get(index=index.alias, id=aggregate_id, ignore=[404])
    document = {**found.get("_source", {}), "_version": found.get("_version")}
    wanted = {
        "name": product.name,
        "price_text": str(product.price),
        "stock_available": product.stock - product.reserved,
        "_version": product.version,
    }
    if {k: document.get(k) for k in wanted} != wanted:
        problems.append(f"product document {aggregate_id}: {document} lacks {wanted}")
    return problems


def _category_tree(shop: Shop, index: SearchIndex, _: str, events: Envelopes) -> list[str]:
    tree = shop.category_tree()
    touched = {UUID(e["data"]["category_id"]) for e in events if "category_id" in e["data"]}
    rows = {r.id: (r.name, r.parent_id) for r in CategoryView.objects.filter(id__in=touched)}
    return [
        f"category {category_id}: {rows.get(category_id)} != {tree.nodes[category_id]}"
        for category_id in sorted(touched)
        if rows.get(category_id)
        != (tree.nodes[category_id].name, tree.nodes[category_id].parent_id)
    ]


def _cart(shop: Shop, index: SearchIndex, aggregate_id: str, _: Envelopes) -> list[str]:
    cart = shop.repository.get(UUID(aggregate_id))
    row = CartView.objects.filter(cart_id=aggregate_id).first()
    lines = dict(
        CartLineView.objects.filter(customer_id=cart.customer_id).values_list(
            "product_id", "quantity"
        )
    )
    found = (row.version if row else None, lines)
    if found != (cart.version, cart.lines):
        return [f"cart {aggregate_id}: {found} != {(cart.version, cart.lines)}"]
    return []


def _order(shop: Shop, index: SearchIndex, aggregate_id: str, _: Envelopes) -> list[str]:
    order = shop.get_order(UUID(aggregate_id))
    expected: dict[str, Any] = {
        "status": order.status,
        "total": order.total,
        "currency": order.currency,
        "shipping_address": order.shipping_address,
        "version": order.version,
    }
    row = OrderView.objects.filter(id=aggregate_id).values(*expected).first()
    problems = [] if row == expected else [f"order row {aggregate_id}: {row} != {expected}"]
    lines = list(
        OrderView.objects.filter(id=aggregate_id).values_list(
            "lines__name", "lines__unit_price", "lines__quantity", "lines__category_id"
        )
    )
    wanted = [
        (line["name"], line["unit_price"], line["quantity"], line["category_id"])
        for line in order.lines
    ]
    if sorted(lines) != sorted(wanted):
        problems.append(f"order lines {aggregate_id}: {lines} != {wanted}")
    return problems


def _review(shop: Shop, index: SearchIndex, aggregate_id: str, _: Envelopes) -> list[str]:
    review = shop.repository.get(UUID(aggregate_id))
    row = ReviewView.objects.filter(id=aggregate_id).values_list("rating", "comment").first()
    if row != (review.rating, review.comment):
        return [f"review {aggregate_id}: {row} != {(review.rating, review.comment)}"]
    return []


def _escalation(shop: Shop, index: SearchIndex, aggregate_id: str, _: Envelopes) -> list[str]:
    escalation = shop.get_escalation(UUID(aggregate_id))
    expected = {
        "order_id": escalation.order_id,
        "status": escalation.status,
        "reason": escalation.reason,
        "version": escalation.version,
    }
    row = EscalationView.objects.filter(id=aggregate_id).values(*expected).first()
    problems = [] if row == expected else [f"escalation {aggregate_id}: {row} != {expected}"]
    messages = EscalationMessageView.objects.filter(escalation_id=aggregate_id).count()
    written = sum(1 for e in shop.events.get(UUID(aggregate_id)) if "message" in vars(e))
    if messages != written:
        problems.append(f"escalation {aggregate_id}: {messages} messages of {written}")
    return problems


CHECKS = {
    "Product": _product,
    "CategoryTree": _category_tree,
    "Cart": _cart,
    "Order": _order,
    "Review": _review,
    "Escalation": _escalation,
}
