"""Shopping projector: cart lines and order tracking rows (with status history) in PostgreSQL.

Each batch is folded in memory from the rows it touches (read once, locked) and written
back in a handful of set-based statements; versions make re-delivery a no-op.
"""

from __future__ import annotations

from typing import Any, cast

from contracts import event_types as events
from contracts import payloads
from projections.escalations.fold import apply_escalations
from projections.row_updates import update_rows
from projections.shopping.models import (
    CartLineView,
    CartView,
    OrderFulfilmentView,
    OrderLineView,
    OrderStatusChange,
    OrderView,
)
from projections.shopping.order_status import PENDING_PAYMENT, payment_after, status_after
from projections.shopping.refunds import RefundRows

Envelope = dict[str, Any]
LineKey = tuple[str, str]  # customer id, product id
ORDER_FIELDS = ["status", "payment", "payment_status", "refunded_total", "version", "updated_at"]
FULFILMENT_EVENTS = frozenset({events.ORDER_FULFILLED, events.ORDER_FULFILMENT_DELIVERED})


class ShoppingProjector:
    """Folds Cart, Order and Escalation events into rows; versions make re-delivery a no-op."""

    name = "shopping"
    aggregate_types = ("Cart", "Order", "Escalation")

    def apply(self, envelopes: list[Envelope]) -> None:
        carts = [e for e in envelopes if e["aggregate_type"] == "Cart"]
        orders = [e for e in envelopes if e["aggregate_type"] == "Order"]
        if carts:
            _apply_carts(carts)
        if orders:
            _apply_orders(orders)
        escalations = [e for e in envelopes if e["aggregate_type"] == "Escalation"]
        if escalations:
            apply_escalations(escalations)


# -- carts ----------------------------------------------------------------------
def _apply_carts(envelopes: list[Envelope]) -> None:
    CartView.objects.bulk_create(
        [
            CartView(
                customer_id=cast(payloads.CartCreated, e["data"])["customer_id"],
                cart_id=e["aggregate_id"],
                version=0,
            )
            for e in envelopes
            if e["type"] == events.CART_CREATED
        ],
        ignore_conflicts=True,
    )
    ids = sorted({e["aggregate_id"] for e in envelopes})
    carts = {
        str(c.cart_id): c for c in CartView.objects.select_for_update().filter(cart_id__in=ids)
    }
    missing = set(ids) - set(carts)
    if missing:
        raise CartView.DoesNotExist(f"no cart row for {sorted(missing)}")
    customers = sorted({str(c.customer_id) for c in carts.values()})
    stored = {
        (str(line.customer_id), str(line.product_id)): line.quantity
        for line in CartLineView.objects.filter(customer_id__in=customers)
    }
    lines = dict(stored)
    moved = [c for c in (_fold_cart(carts[e["aggregate_id"]], e, lines) for e in envelopes) if c]
    _write_cart_lines(stored, lines)
    update_rows(CartView, list({c.pk: c for c in moved}.values()), ["version"])


def _fold_cart(cart: CartView, envelope: Envelope, lines: dict[LineKey, int]) -> CartView | None:
    """Apply one event to the cart's lines in memory; the cart if its version moved."""
    if envelope["version"] <= cart.version:
        return None
    data, kind, customer = envelope["data"], envelope["type"], str(cart.customer_id)
    if kind == events.CART_QUANTITY_SET:
        line = cast(payloads.CartQuantitySet, data)
        lines[(customer, str(line["product_id"]))] = line["quantity"]
    elif kind == events.CART_ITEM_REMOVED:
        lines.pop((customer, str(cast(payloads.CartItemRemoved, data)["product_id"])), None)
    elif kind == events.CART_CHECKED_OUT:
        for key in [k for k in lines if k[0] == customer]:
            del lines[key]
    cart.version = envelope["version"]
    return cart


def _write_cart_lines(stored: dict[LineKey, int], lines: dict[LineKey, int]) -> None:
    gone = sorted(set(stored) - set(lines))
    for customer, products in _by_customer(gone).items():
        CartLineView.objects.filter(customer_id=customer, product_id__in=products).delete()
    CartLineView.objects.bulk_create(
        [
            CartLineView(customer_id=c, product_id=p, quantity=q)
            for (c, p), q in sorted(lines.items())
            if stored.get((c, p)) != q
        ],
        update_conflicts=True,
        unique_fields=["customer_id", "product_id"],
        update_fields=["quantity"],
    )


def _by_customer(keys: list[LineKey]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for customer, product in keys:
        grouped.setdefault(customer, []).append(product)
    return grouped


# -- orders ---------------------------------------------------------------------
def _apply_orders(envelopes: list[Envelope]) -> None:
    ids = sorted({e["aggregate_id"] for e in envelopes})
    orders = {str(o.id): o for o in OrderView.objects.select_for_update().filter(id__in=ids)}
    refunds = RefundRows(ids)
    placed: dict[str, OrderView] = {}
    lines: list[OrderLineView] = []
    history: list[OrderStatusChange] = []
    moved: set[str] = set()
    parcels: list[Envelope] = []
    for envelope in envelopes:
        aggregate_id = envelope["aggregate_id"]
        if envelope["type"] == events.ORDER_PLACED:
            if aggregate_id not in orders:
                orders[aggregate_id] = placed[aggregate_id] = _placed(envelope, lines, history)
            continue
        if aggregate_id not in orders:
            raise OrderView.DoesNotExist(f"{envelope['type']} before OrderPlaced: {aggregate_id}")
        if _fold_order(orders[aggregate_id], envelope, history):
            refunds.fold(orders[aggregate_id], envelope)
            moved.add(aggregate_id)
            if envelope["type"] in FULFILMENT_EVENTS:
                parcels.append(envelope)
    OrderView.objects.bulk_create(placed.values())
    OrderLineView.objects.bulk_create(lines)
    update_rows(OrderView, [orders[i] for i in sorted(moved - set(placed))], ORDER_FIELDS)
    OrderStatusChange.objects.bulk_create(history)
    if parcels:
        _write_fulfilments(parcels)
    refunds.write()


def _placed(
    envelope: Envelope, lines: list[OrderLineView], history: list[OrderStatusChange]
) -> OrderView:
    data = cast(payloads.OrderPlaced, envelope["data"])
    order = OrderView(
        id=envelope["aggregate_id"],
        customer_id=data["customer_id"],
        status=PENDING_PAYMENT,
        total=data["total"],
        currency=data["currency"],
        shipping_address=data["shipping_address"],
        created_at=envelope["occurred_at"],
        updated_at=envelope["occurred_at"],
        version=envelope["version"],
    )
    lines.extend(
        OrderLineView(
            order=order,
            product_id=line["product_id"],
            name=line["name"],
            unit_price=line["unit_price"],
            quantity=line["quantity"],
            seller_id=line["seller_id"],
            category_id=line["category_id"],
        )
        for line in data["lines"]
    )
    history.append(_history(order, envelope, PENDING_PAYMENT))
    return order


def _fold_order(order: OrderView, envelope: Envelope, history: list[OrderStatusChange]) -> bool:
    """Apply one event to the order in memory; False if it was applied before."""
    if envelope["version"] <= order.version:
        return False
    payment = payment_after(envelope["type"])
    if payment:
        order.payment = payment
    status = status_after(envelope["type"], envelope["data"])
    if status:
        order.status = status
        history.append(_history(order, envelope, status))
    order.version, order.updated_at = envelope["version"], envelope["occurred_at"]
    return True


def _history(order: OrderView, envelope: Envelope, status: str) -> OrderStatusChange:
    return OrderStatusChange(
        order=order,
        status=status,
        at=envelope["occurred_at"],
        by=envelope["actor"]["id"] or "",
        by_role=envelope["actor"]["role"] or "",
        version=envelope["version"],
    )


# -- fulfilments: one row per parcel, folded from events the order rows accepted ----------
def _write_fulfilments(envelopes: list[Envelope]) -> None:
    """Create the parcels these events ship and mark those they deliver.

    Only events that moved their order's version get here, so a re-delivery writes nothing.
    """
    shipped: dict[str, OrderFulfilmentView] = {}
    delivered: dict[str, str] = {}  # fulfilment id -> when
    for envelope in envelopes:
        if envelope["type"] == events.ORDER_FULFILLED:
            data = cast(payloads.OrderFulfilled, envelope["data"])
            shipped[data["fulfilment_id"]] = OrderFulfilmentView(
                id=data["fulfilment_id"],
                order_id=envelope["aggregate_id"],
                product_ids=data["product_ids"],
                status="shipped",
                carrier=data["carrier"] or "",
                tracking_number=data["tracking_number"] or "",
                shipped_at=envelope["occurred_at"],
            )
        else:
            arrived = cast(payloads.OrderFulfilmentDelivered, envelope["data"])
            delivered[arrived["fulfilment_id"]] = envelope["occurred_at"]
    earlier = OrderFulfilmentView.objects.select_for_update().filter(
        id__in=sorted(set(delivered) - set(shipped))
    )
    rows = {**{str(f.id): f for f in earlier}, **shipped}
    missing = set(delivered) - set(rows)
    if missing:
        raise OrderFulfilmentView.DoesNotExist(f"delivered before shipped: {sorted(missing)}")
    for fulfilment_id, at in delivered.items():
        rows[fulfilment_id].status, rows[fulfilment_id].delivered_at = "delivered", at
    OrderFulfilmentView.objects.bulk_create(shipped.values())
    update_rows(
        OrderFulfilmentView,
        [rows[i] for i in sorted(set(delivered) - set(shipped))],
        ["status", "delivered_at"],
    )
