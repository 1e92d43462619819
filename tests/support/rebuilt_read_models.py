"""Every read model and the search index as a rebuild from the event store says they must be.

`rebuilt` folds the whole store: the catalog with the projectors' own pure folds
(`evolve`, `evolve_tree`, `Catalog`), carts, orders, reviews, the audit log and the
notification emails with the contract they implement. `stored` reads what the
projectors actually wrote (PostgreSQL rows and OpenSearch documents) into the same
shape, and `differences` names what does not match, model by model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.db.models import Model
from opensearchpy import OpenSearch, helpers

from projections.audit.models import AuditEvent
from projections.catalog.category_state import category_paths, evolve_tree
from projections.catalog.models import CategoryView, ProductView, ReviewView
from projections.catalog.product_state import evolve
from projections.catalog.rebuild import Catalog
from projections.catalog.search_index import products_alias
from projections.notifications.escalation_emails import escalation_email_task
from projections.notifications.models import SentEmail
from projections.notifications.projector import notification_kind
from projections.shopping.models import (
    CartLineView,
    CartView,
    OrderFulfilmentView,
    OrderLineView,
    OrderStatusChange,
    OrderView,
)
from write_api.application import Shop
from write_api.published_events import to_envelope

Rows = dict[str, dict[str, Any]]
Touched = dict[str, set[str]]  # read model -> keys of its rows
CHUNK = 1_000
PRODUCT_COLUMNS = [
    "name",
    "description",
    "price",
    "category_id",
    "seller_id",
    "stock",
    "reserved",
    "discontinued",
    "rating_average",
    "rating_count",
    "created_at",
    "updated_at",
    "version",
]
AUDIT_COLUMNS = [
    "position",
    "aggregate_type",
    "aggregate_id",
    "version",
    "type",
    "actor_id",
    "actor_role",
    "occurred_at",
    "data",
]
# Examples shown per kind of difference: enough to see the pattern, short enough to read.
SHOWN = 5


class Stack(Protocol):
    """What the check needs of a running stack (tests.e2e.conftest.LiveStack has it)."""

    namespace: str

    @property
    def opensearch_url(self) -> str: ...

    def shop(self) -> Shop: ...

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]: ...


@dataclass
class ReadModels:
    """Each read model keyed by its row's identity, values in comparable form."""

    products: Rows = field(default_factory=dict)
    categories: Rows = field(default_factory=dict)
    reviews: Rows = field(default_factory=dict)
    documents: Rows = field(default_factory=dict)
    carts: Rows = field(default_factory=dict)
    orders: Rows = field(default_factory=dict)
    audit: Rows = field(default_factory=dict)
    emails: Rows = field(default_factory=dict)


# -- the rebuild -------------------------------------------------------------------


def envelopes(shop: Shop, head: int) -> Iterator[dict[str, Any]]:
    """Every stored event up to notification position `head`, as published, in log order."""
    after = 0
    while after < head:
        notifications = shop.recorder.select_notifications(
            start=after, limit=CHUNK, stop=head, inclusive_of_start=False
        )
        for notification in notifications:
            yield to_envelope(shop.mapper.to_domain_event(notification), notification.id)
        if len(notifications) < CHUNK:
            return
        after = notifications[-1].id


def rebuilt(shop: Shop, since: int = 0) -> tuple[ReadModels, Touched]:
    """The read models a projection of the whole store from scratch produces, and which of
    their rows the events after position `since` touched."""
    head = shop.recorder.max_notification_id() or 0
    catalog, shopping, models = Catalog(), Shopping(), ReadModels()
    touched: Touched = {f.name: set() for f in fields(ReadModels)}
    moved: set[str] = set()  # categories renamed or moved: their products' documents change
    for envelope in envelopes(shop, head):
        fold_catalog(catalog, envelope)
        shopping.fold(envelope)
        models.audit[envelope["event_id"]] = audit_row(envelope)
        email = expected_email(envelope)
        if email is not None:
            models.emails[envelope["event_id"]] = email
        if envelope["type"] == "ReviewCreated":
            models.reviews[envelope["aggregate_id"]] = review_row(envelope)
        if envelope["position"] > since:
            for model, key in keys_of(envelope, shopping):
                touched[model].add(key)
            if envelope["aggregate_type"] == "CategoryTree":
                moved.add(envelope["data"].get("category_id") or "")
    models.products = {i: product_row(catalog, i) for i in catalog.products}
    models.documents = {d["id"]: d for d in catalog.documents()}
    models.categories = category_rows(catalog)
    models.carts, models.orders = shopping.carts, shopping.orders
    if moved:
        touched["categories"] |= {
            i for i, c in models.categories.items() if moved & set(c["path_ids"])
        }
        in_moved = {i for i, d in models.documents.items() if moved & set(d["category_path"])}
        touched["products"] |= in_moved
        touched["documents"] |= in_moved
    return models, touched


def keys_of(envelope: dict[str, Any], shopping: Shopping) -> Iterator[tuple[str, str]]:
    """The read-model rows one event changes."""
    kind, aggregate_id = envelope["aggregate_type"], envelope["aggregate_id"]
    yield "audit", envelope["event_id"]
    if expected_email(envelope) is not None:
        yield "emails", envelope["event_id"]
    if kind == "Product":
        yield from (("products", aggregate_id), ("documents", aggregate_id))
    elif kind == "Review":
        product_id = envelope["data"]["product_id"]
        yield from (("reviews", aggregate_id), ("products", product_id), ("documents", product_id))
    elif kind == "Cart":
        yield "carts", shopping.cart_owner[aggregate_id]
    elif kind == "Order":
        yield "orders", aggregate_id


def expected_email(envelope: dict[str, Any]) -> dict[str, str] | None:
    """The email an event sends its customer: an order's (paid, shipped) or an escalation's."""
    task = escalation_email_task(envelope)
    if task is not None:
        return {"kind": task["kind"], "order_id": task["order_id"]}
    kind = notification_kind(envelope)
    return {"kind": kind, "order_id": envelope["aggregate_id"]} if kind is not None else None


def fold_catalog(catalog: Catalog, envelope: dict[str, Any]) -> None:
    """One envelope into the catalog, as `projections.catalog.rebuild.fold` does."""
    if envelope["aggregate_type"] == "CategoryTree":
        catalog.tree = evolve_tree(catalog.tree, envelope)
    elif envelope["aggregate_type"] == "Review":
        product_id = envelope["data"]["product_id"]
        catalog.ratings.setdefault(product_id, []).append(envelope["data"]["rating"])
    elif envelope["aggregate_type"] == "Product":
        product_id = envelope["aggregate_id"]
        catalog.products[product_id] = evolve(catalog.products.get(product_id), envelope)  # type: ignore[assignment]


def product_row(catalog: Catalog, product_id: str) -> dict[str, Any]:
    ratings = catalog.ratings.get(product_id, [])
    state = catalog.products[product_id]
    average = Decimal(sum(ratings)) / len(ratings) if ratings else None
    return {
        "name": state["name"],
        "description": state["description"],
        "price": money(state["price"]),
        "category_id": state["category_id"],
        "seller_id": state["seller_id"],
        "stock": state["stock"],
        "reserved": state["reserved"],
        "discontinued": state["discontinued"],
        "rating_average": money(average) if average is not None else None,
        "rating_count": len(ratings),
        "created_at": instant(state["created_at"]),
        "updated_at": instant(state["updated_at"]),
        "version": state["version"],
    }


def category_rows(catalog: Catalog) -> Rows:
    return {
        category_id: {
            "name": catalog.tree[category_id]["name"],
            "parent_id": catalog.tree[category_id]["parent_id"],
            "path_ids": list(path.ids),
            "path_names": list(path.names),
            "path": path.text,
            "depth": len(path.ids) - 1,
        }
        for category_id, path in category_paths(catalog.tree).items()
    }


def review_row(envelope: dict[str, Any]) -> dict[str, Any]:
    data = envelope["data"]
    return {
        "product_id": data["product_id"],
        "customer_id": data["customer_id"],
        "rating": data["rating"],
        "comment": data["comment"],
        "created_at": instant(envelope["occurred_at"]),
    }


def audit_row(envelope: dict[str, Any]) -> dict[str, Any]:
    """The audit log holds each event once, as it was published."""
    return {
        "position": envelope["position"],
        "aggregate_type": envelope["aggregate_type"],
        "aggregate_id": envelope["aggregate_id"],
        "version": envelope["version"],
        "type": envelope["type"],
        "actor_id": envelope["actor"]["id"] or "",
        "actor_role": envelope["actor"]["role"] or "",
        "occurred_at": instant(envelope["occurred_at"]),
        "data": envelope["data"],
    }


class Shopping:
    """Carts and orders as API.md defines them, folded from Cart and Order events."""

    def __init__(self) -> None:
        self.carts: Rows = {}  # by customer id
        self.orders: Rows = {}
        self.cart_owner: dict[str, str] = {}

    def fold(self, envelope: dict[str, Any]) -> None:
        if envelope["aggregate_type"] == "Cart":
            self._cart(envelope)
        elif envelope["aggregate_type"] == "Order":
            self._order(envelope)

    def _cart(self, envelope: dict[str, Any]) -> None:
        data, kind, cart_id = envelope["data"], envelope["type"], envelope["aggregate_id"]
        if kind == "CartCreated":
            self.cart_owner[cart_id] = data["customer_id"]
            self.carts[data["customer_id"]] = {"cart_id": cart_id, "lines": {}}
        cart = self.carts[self.cart_owner[cart_id]]
        if kind == "CartQuantitySet":
            cart["lines"][data["product_id"]] = data["quantity"]
        elif kind == "CartItemRemoved":
            del cart["lines"][data["product_id"]]
        elif kind == "CartCheckedOut":
            cart["lines"] = {}
        cart["version"] = envelope["version"]

    def _order(self, envelope: dict[str, Any]) -> None:
        data, kind, order_id = envelope["data"], envelope["type"], envelope["aggregate_id"]
        if kind == "OrderPlaced":
            self.orders[order_id] = {
                "customer_id": data["customer_id"],
                "status": "pending_payment",
                "total": money(data["total"]),
                "currency": data["currency"],
                "shipping_address": data["shipping_address"],
                "created_at": instant(envelope["occurred_at"]),
                "lines": sorted(
                    (
                        line["product_id"],
                        line["name"],
                        money(line["unit_price"]),
                        line["quantity"],
                        line["seller_id"],
                        line["category_id"],
                    )
                    for line in data["lines"]
                ),
                "history": [],
                "fulfilments": [],
            }
        order = self.orders[order_id]
        self._fulfilment(order, kind, data)
        status = {
            "OrderPlaced": "pending_payment",
            "OrderPaid": "paid",
            "OrderCancelled": "cancelled",
            "OrderStatusChanged": data.get("status"),
        }.get(kind)
        if status is not None:
            order["status"] = status
            actor = envelope["actor"]
            order["history"].append(
                (envelope["version"], status, actor["id"] or "", actor["role"] or "")
            )
        order["version"] = envelope["version"]

    @staticmethod
    def _fulfilment(order: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
        """A parcel as (id, lines, status, carrier, tracking number); "" when not given."""
        if kind == "OrderFulfilled":
            order["fulfilments"].append(
                (
                    data["fulfilment_id"],
                    tuple(data["product_ids"]),
                    "shipped",
                    data["carrier"] or "",
                    data["tracking_number"] or "",
                )
            )
            order["fulfilments"].sort()
        elif kind == "OrderFulfilmentDelivered":
            order["fulfilments"] = sorted(
                (f[0], f[1], "delivered", *f[3:]) if f[0] == data["fulfilment_id"] else f
                for f in order["fulfilments"]
            )


# -- what the projectors wrote -----------------------------------------------------


def stored(stack: Stack) -> ReadModels:
    """The read rows in PostgreSQL and the documents in OpenSearch, as they are now."""
    models = ReadModels()
    for product_id, *values in select(stack, ProductView, "id", *PRODUCT_COLUMNS):
        models.products[str(product_id)] = normalized(
            dict(zip(PRODUCT_COLUMNS, values, strict=True))
        )
    for category_id, name, parent_id, path_ids, path_names, path, depth in select(
        stack, CategoryView, "id", "name", "parent_id", "path_ids", "path_names", "path", "depth"
    ):
        models.categories[str(category_id)] = {
            "name": name,
            "parent_id": text(parent_id),
            "path_ids": path_ids,
            "path_names": path_names,
            "path": path,
            "depth": depth,
        }
    for review_id, product_id, customer_id, rating, comment, created_at in select(
        stack, ReviewView, "id", "product_id", "customer_id", "rating", "comment", "created_at"
    ):
        models.reviews[str(review_id)] = {
            "product_id": str(product_id),
            "customer_id": str(customer_id),
            "rating": rating,
            "comment": comment,
            "created_at": created_at,
        }
    models.documents = indexed_documents(stack)
    models.carts = stored_carts(stack)
    models.orders = stored_orders(stack)
    models.audit = {
        str(event_id): dict(zip(AUDIT_COLUMNS, values, strict=True))
        for event_id, *values in select(stack, AuditEvent, "event_id", *AUDIT_COLUMNS)
    }
    for row in models.audit.values():
        row["aggregate_id"] = str(row["aggregate_id"])
    for event_id, kind, order_id in select(stack, SentEmail, "event_id", "kind", "order_id"):
        models.emails[str(event_id)] = {"kind": kind, "order_id": str(order_id)}
    return models


def select(stack: Stack, model: type[Model], *columns: str, order: str = "") -> list[tuple]:
    """Every row of a model's table; table and column names come from code, never input."""
    names = ", ".join(f'"{c}"' for c in columns)
    query = f'SELECT {names} FROM "{model._meta.db_table}" {order}'  # noqa: S608
    return stack.sql(query)


def indexed_documents(stack: Stack) -> Rows:
    client = OpenSearch(hosts=[stack.opensearch_url], timeout=30)
    alias = products_alias(stack.namespace)
    client.indices.refresh(index=alias)
    return {
        hit["_id"]: hit["_source"]
        for hit in helpers.scan(client, index=alias, query={"query": {"match_all": {}}})
    }


def stored_carts(stack: Stack) -> Rows:
    carts: Rows = {
        str(customer): {"cart_id": str(cart), "lines": {}, "version": version}
        for customer, cart, version in select(stack, CartView, "customer_id", "cart_id", "version")
    }
    for customer, product, quantity in select(
        stack, CartLineView, "customer_id", "product_id", "quantity"
    ):
        carts.setdefault(str(customer), {"lines": {}})["lines"][str(product)] = quantity
    return carts


def stored_orders(stack: Stack) -> Rows:
    orders: Rows = {
        str(order_id): {
            "customer_id": str(customer_id),
            "status": status,
            "total": money(total),
            "currency": currency,
            "shipping_address": address,
            "created_at": created_at,
            "lines": [],
            "history": [],
            "fulfilments": [],
            "version": version,
        }
        for order_id, customer_id, status, total, currency, address, created_at, version in select(
            stack,
            OrderView,
            "id",
            "customer_id",
            "status",
            "total",
            "currency",
            "shipping_address",
            "created_at",
            "version",
        )
    }
    for order_id, product_id, name, unit_price, quantity, seller_id, category_id in select(
        stack,
        OrderLineView,
        "order_id",
        "product_id",
        "name",
        "unit_price",
        "quantity",
        "seller_id",
        "category_id",
    ):
        orders[str(order_id)]["lines"].append(
            (
                str(product_id),
                name,
                money(unit_price),
                quantity,
                text(seller_id),
                text(category_id),
            )
        )
    for order_id, version, status, by, by_role in select(
        stack,
        OrderStatusChange,
        "order_id",
        "version",
        "status",
        "by",
        "by_role",
        order="ORDER BY order_id, version, id",
    ):
        orders[str(order_id)]["history"].append((version, status, by, by_role))
    for fulfilment_id, order_id, product_ids, status, carrier, tracking_number in select(
        stack,
        OrderFulfilmentView,
        "id",
        "order_id",
        "product_ids",
        "status",
        "carrier",
        "tracking_number",
    ):
        orders[str(order_id)]["fulfilments"].append(
            (str(fulfilment_id), tuple(product_ids), status, carrier, tracking_number)
        )
    for order in orders.values():
        order["lines"].sort()
        order["fulfilments"].sort()
    return orders


# -- comparison ----------------------------------------------------------------------


def differences(
    want: ReadModels, got: ReadModels, touched: Touched | None = None
) -> dict[str, dict[str, Any]]:
    """Per read model: rows missing, rows that should not exist, rows whose values differ.

    With `touched`, rows are compared only where those events changed them (so a test is
    judged on its own events), but a row no event explains is always reported.
    """
    found: dict[str, dict[str, Any]] = {}
    for model in fields(ReadModels):
        wanted, have = getattr(want, model.name), getattr(got, model.name)
        scope = touched[model.name] if touched is not None else wanted.keys() | have.keys()
        missing = sorted((wanted.keys() - have.keys()) & scope)
        unexpected = sorted(have.keys() - wanted.keys())
        differing = {
            key: changed(wanted[key], have[key])
            for key in sorted(wanted.keys() & have.keys() & scope)
            if wanted[key] != have[key]
        }
        report: dict[str, Any] = {}
        for name, items in (("missing", missing), ("unexpected", unexpected)):
            if items:
                report[name] = {"count": len(items), "first": items[:SHOWN]}
        if differing:
            report["differing"] = {
                "count": len(differing),
                "first": dict(list(differing.items())[:SHOWN]),
            }
        if report:
            found[model.name] = report
    return found


def changed(want: dict[str, Any], got: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of one row that differ, as (wanted, found)."""
    return {
        k: (want.get(k), got.get(k)) for k in want.keys() | got.keys() if want.get(k) != got.get(k)
    }


# -- value forms both sides share ------------------------------------------------------


def money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def instant(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def text(value: Any) -> str | None:
    return str(value) if value is not None else None


def normalized(row: dict[str, Any]) -> dict[str, Any]:
    """A product row read from PostgreSQL in the rebuild's forms (ids and money as text)."""
    return {
        **row,
        "price": money(row["price"]),
        "category_id": text(row["category_id"]),
        "seller_id": text(row["seller_id"]),
        "rating_average": money(row["rating_average"])
        if row["rating_average"] is not None
        else None,
    }
