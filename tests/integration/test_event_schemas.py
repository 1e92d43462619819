"""Orders placed before OrderPlaced schema 2 (issue 13, item 6): their events, stored and
published in the old shape by an older release, still load, act, publish and project.

The old shape is written here as that release wrote it: the same JSON as today's rows, without
`currency`, without the lines' `category_id` and without the library's `class_version` marker.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from adapters.clients import kafka_admin, kafka_producer
from contracts import event_types as events
from contracts.schemas import SHOP_CURRENCY
from projections.audit.models import AuditEvent
from projections.models import ParkedEvent
from projections.parking import park
from projections.shopping.models import OrderLineView, OrderView
from projections.topics import ensure_topics
from read_api.history import order_as_of
from read_api.orders import order_get_tracking
from tests.integration.live_pipeline import live_pipeline
from tests.support.pipeline import envelopes, read_topic
from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.domain.order_status import CANCELLED
from write_api.published_events import event_id, topic_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ADMIN = CommandContext(actor_id="admin-1", actor_role="admin", request_id="req-cancel")
PLACED_AT = "2026-01-05T10:00:00.000000+00:00"


def uuid_json(value: UUID) -> dict[str, str]:
    return {"_type_": "uuid_hex", "_data_": value.hex}


def v1_placed_row(order_id: UUID, customer_id: UUID, product_id: UUID) -> bytes:
    """Order.Placed as the release before schema 2 stored it (copied from a stored row)."""
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": PLACED_AT},
        "originator_topic": "shopstream.order",
        "order_id": uuid_json(order_id),
        "customer_id": uuid_json(customer_id),
        "lines": [
            {
                "product_id": uuid_json(product_id),
                "name": "Mug",
                "unit_price": {"_type_": "decimal_str", "_data_": "12.50"},
                "quantity": 2,
                "seller_id": None,
            }
        ],
        "total": {"_type_": "decimal_str", "_data_": "25.00"},
        "shipping_address": ADDRESS,
        "metadata": {
            "actor_id": str(customer_id),
            "actor_role": "customer",
            "request_id": "req-old",
            "correlation_id": "req-old",
            "causation_id": None,
        },
    }
    return json.dumps(state, separators=(",", ":")).encode()


def store_v1_order(shop: Shop, product_id: UUID) -> tuple[UUID, UUID, int]:
    """Insert an old release's Order.Placed row; its order id, customer id and position."""
    order_id, customer_id = uuid4(), uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{shop.recorder.events_table_name}" '  # noqa: S608  (the library's table)
            "(originator_id, originator_version, topic, state) VALUES (%s, 1, %s, %s) "
            "RETURNING notification_id",
            [order_id, "shopstream.order.Placed", v1_placed_row(order_id, customer_id, product_id)],
        )
        (position,) = cursor.fetchone()
    return order_id, customer_id, position


def v1_envelope(order_id: UUID, customer_id: UUID, product_id: UUID, position: int) -> Any:
    """The envelope the relay before schema 2 published for that row (schema 1)."""
    return {
        "event_id": event_id(order_id, 1),
        "position": position,
        "aggregate_type": "Order",
        "aggregate_id": str(order_id),
        "version": 1,
        "type": events.ORDER_PLACED,
        "schema": 1,
        "occurred_at": PLACED_AT,
        "actor": {"id": str(customer_id), "role": "customer"},
        "request_id": "req-old",
        "correlation_id": "req-old",
        "causation_id": None,
        "data": {
            "order_id": str(order_id),
            "customer_id": str(customer_id),
            "lines": [
                {
                    "product_id": str(product_id),
                    "name": "Mug",
                    "unit_price": "12.50",
                    "quantity": 2,
                    "seller_id": None,
                }
            ],
            "total": "25.00",
            "shipping_address": ADDRESS,
        },
    }


def audit_of(order_id: UUID) -> list[tuple[str, int, dict[str, Any]]]:
    rows = AuditEvent.objects.filter(aggregate_id=order_id).order_by("version")
    return [(row.type, row.schema, row.data) for row in rows]


def assert_projected_as_schema_2(order_id: UUID, status: str) -> None:
    """The order read model, its tracking view, its audit row and its past state show the
    currency and the unknown category."""
    order = OrderView.objects.get(id=order_id)
    assert (order.status, order.currency, order.total) == (status, SHOP_CURRENCY, Decimal("25"))
    line = OrderLineView.objects.get(order_id=order_id)
    assert (line.name, line.quantity, line.category_id) == ("Mug", 2, None)
    tracking = order_get_tracking(SimpleNamespace(role="admin", id=uuid4()), order_id)
    assert tracking is not None
    assert tracking["currency"] == SHOP_CURRENCY
    assert [item["category_id"] for item in tracking["items"]] == [None]
    placed_type, placed_schema, placed = audit_of(order_id)[0]
    assert (placed_type, placed_schema, placed["currency"]) == (
        events.ORDER_PLACED,
        2,
        SHOP_CURRENCY,
    )
    assert placed["lines"][0]["category_id"] is None
    past = order_as_of(order_id, datetime.now(UTC))
    assert past is not None
    assert (past["status"], past["currency"], past["total"]) == (status, SHOP_CURRENCY, "25.00")
    assert [item["category_id"] for item in past["items"]] == [None]


@pytest.mark.slow
def test_a_stored_schema_1_order_loads_acts_and_is_published_and_projected_as_schema_2(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: a product, and an order of it an older release stored in the old shape
    product_id = create_product(shop_app, name="Mug", price=Decimal("12.50")).id
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        order_id, _, _ = store_v1_order(shop_app, product_id)
        # when: the application loads it and cancels it; the relay and projectors follow
        shop_app.cancel_order(order_id, reason="Changed my mind", context=ADMIN)
        pipeline.wait_until_caught_up()
        published = [
            e
            for e in envelopes(read_topic(topic_name(pipeline.prefix, "Order"), expected=2))
            if e["aggregate_id"] == str(order_id)
        ]
    # then: the aggregate has the currency, the envelope says schema 2 and carries it
    loaded = shop_app.get_order(order_id)
    assert (loaded.status, loaded.currency) == (CANCELLED, SHOP_CURRENCY)
    assert [line["category_id"] for line in loaded.lines] == [None]
    assert [(e["type"], e["schema"]) for e in published] == [
        (events.ORDER_PLACED, 2),
        (events.ORDER_CANCELLED, 1),
    ]
    assert published[0]["data"]["currency"] == SHOP_CURRENCY
    assert published[0]["data"]["lines"][0]["category_id"] is None
    assert published[0]["data"]["total"] == "25.00"
    assert_projected_as_schema_2(order_id, CANCELLED)


@pytest.mark.slow
def test_a_schema_1_envelope_an_older_relay_published_projects_as_schema_2(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: before the upgrade, the old release stored an order and its relay published it
    product_id = create_product(shop_app, name="Mug", price=Decimal("12.50")).id
    order_id, customer_id, position = store_v1_order(shop_app, product_id)
    admin = kafka_admin()
    ensure_topics(admin, settings.TOPIC_PREFIX, partitions=2)
    admin.close()
    producer = kafka_producer()
    producer.send(
        topic_name(settings.TOPIC_PREFIX, "Order"),
        key=str(order_id),
        value=v1_envelope(order_id, customer_id, product_id, position),
    ).get(timeout=10)
    producer.close()
    # when: the upgraded relay (from that position on) and projectors start
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        pipeline.wait_until_caught_up()
    # then: every projector read the old envelope as schema 2
    assert_projected_as_schema_2(order_id, "pending_payment")


def test_an_audit_row_an_older_projector_wrote_reads_as_schema_2_as_of_a_time() -> None:
    # given: the audit log's OrderPlaced row of an order placed before schema 2
    order_id, customer_id, product_id = uuid4(), uuid4(), uuid4()
    old = v1_envelope(order_id, customer_id, product_id, position=1)
    AuditEvent.objects.create(
        event_id=old["event_id"],
        position=old["position"],
        aggregate_type="Order",
        aggregate_id=order_id,
        version=1,
        type=events.ORDER_PLACED,
        schema=1,
        actor_id=str(customer_id),
        actor_role="customer",
        occurred_at=PLACED_AT,
        data=old["data"],
    )
    # when
    past = order_as_of(order_id, datetime.now(UTC))
    # then
    assert past is not None
    assert (past["currency"], past["total"], past["status"]) == (
        SHOP_CURRENCY,
        "25.00",
        "pending_payment",
    )
    assert past["items"] == [
        {
            "product_id": str(product_id),
            "name": "Mug",
            "unit_price": "12.50",
            "quantity": 2,
            "category_id": None,
        }
    ]
    assert audit_of(order_id)[0][1] == 1  # the row itself is left as it was written


def test_a_schema_1_envelope_parked_by_an_older_release_is_redriven_as_schema_2() -> None:
    # given: the shopping projector of an older release parked an order's schema 1 envelope
    order_id, customer_id, product_id = uuid4(), uuid4(), uuid4()
    parked = park(
        "shopping",
        v1_envelope(order_id, customer_id, product_id, position=10**12),
        "OperationalError('the database went away')",
        attempts=3,
        source="t:0@1",
    )
    # when
    call_command("parked", "redrive", str(parked.pk), stdout=io.StringIO())
    # then
    order = OrderView.objects.get(id=order_id)
    assert (order.currency, order.status) == (SHOP_CURRENCY, "pending_payment")
    assert OrderLineView.objects.get(order_id=order_id).category_id is None
    assert ParkedEvent.objects.get(pk=parked.pk).status == "redriven"
    assert ParkedEvent.objects.get(pk=parked.pk).envelope["schema"] == 1  # kept as delivered
