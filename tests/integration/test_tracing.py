"""One paid order, followed in one trace from the HTTP request to the email (issue 12, item 4).

The write API's request span, the `traceparent` stored with the event, the relay's produce
span and its Kafka header, the notifications projector's batch span (a link), the span that
enqueues the email and the Celery task that sends it: the SDK's in-memory exporter sees
them all. The relay, the projectors and a Celery worker run in threads on the real servers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.kafka import KafkaInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.tracing import span_context_of
from contracts.event_types import ORDER_PAID
from infra.celery_app import app as celery_app
from infra.tracing import configure_tracing
from projections.notifications.models import SentEmail
from projections.notifications.projector import NotificationsProjector
from projections.tasks import send_order_email
from tests.integration.live_pipeline import live_pipeline
from tests.integration.test_shopping import pay, placed_order
from tests.support.actors import Actor
from tests.support.pipeline import read_topic
from write_api.application import Shop
from write_api.published_events import PUBLISHED_TYPES, topic_name

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TASK = "projections.tasks.send_order_email"
INSTRUMENTORS = (
    CeleryInstrumentor,
    DjangoInstrumentor,
    KafkaInstrumentor,
    PsycopgInstrumentor,
    RequestsInstrumentor,
)


@pytest.fixture(scope="module")
def exported() -> Iterator[InMemorySpanExporter]:
    """Tracing as the processes set it up, every span kept in memory (from here on)."""
    exporter = InMemorySpanExporter()
    assert configure_tracing(exporter) is not None
    yield exporter
    exporter.shutdown()
    # The provider stays (it cannot be replaced); later tests run without the libraries patched.
    for instrumentor in INSTRUMENTORS:
        if instrumentor().is_instrumented_by_opentelemetry:
            instrumentor().uninstrument()


def test_a_paid_orders_trace_leads_from_the_request_to_the_projector_and_the_email(
    shop_app: Shop,
    isolated_namespace: str,
    customer: Actor,
    seller: Actor,
    exported: InMemorySpanExporter,
) -> None:
    # given: the pipeline with the notifications consumer and a worker on this test's queue
    queue = f"{isolated_namespace}.tasks"
    projector = NotificationsProjector(
        lambda **task: send_order_email.apply_async(kwargs=task, queue=queue)
    )
    with (
        start_worker(celery_app, queues=[queue], perform_ping_check=False, shutdown_timeout=10),
        live_pipeline(shop_app, isolated_namespace, [projector]) as pipeline,
    ):
        order_id = placed_order(shop_app, customer, seller)
        exported.clear()
        # when
        paid = pay(customer, order_id, "tok_ok")
        assert paid.status_code == 200, paid.content
        wait_for(lambda: SentEmail.objects.filter(order_id=order_id).exists())
        pipeline.wait_until_caught_up()
    spans = exported.get_finished_spans()
    # then: the request span is the parent of the context stored with OrderPaid
    request = one(spans, SpanKind.SERVER, lambda s: s.name.endswith("/orders/<uuid:order_id>/pay"))
    [stored] = [
        e.metadata["traceparent"]
        for e in shop_app.events.get(uuid.UUID(order_id))
        if PUBLISHED_TYPES[type(e)] == ORDER_PAID
    ]
    assert ids(span_context_of(stored)) == ids(request.context)
    # the relay's produce span continues it, and its header is the only traceparent sent
    topic = topic_name(pipeline.prefix, "Order")
    [record] = [r for r in read_topic(topic, 1) if b'"OrderPaid"' in r.value and order_id in key(r)]
    traceparents = [value.decode() for name, value in record.headers if name == "traceparent"]
    assert len(traceparents) == 1
    sent = ids(span_context_of(traceparents[0]))
    produce = one(spans, SpanKind.PRODUCER, lambda s: ids(s.context) == sent, under=request)
    assert produce.name == f"{topic} send"
    # the notifications projector's batch span links to it
    group = f"{pipeline.prefix}notifications"
    batch = one(
        spans,
        SpanKind.CONSUMER,
        lambda s: (
            s.attributes.get("messaging.consumer.group.name") == group
            and ids(produce.context) in [ids(link.context) for link in s.links]
        ),
    )
    assert batch.attributes["messaging.system"] == "kafka"
    assert batch.attributes["messaging.destination.name"] == topic
    assert batch.attributes["messaging.operation"] == "process"
    # the email is enqueued in the order's trace, linked back to the batch
    notify = one(spans, SpanKind.INTERNAL, lambda s: s.name == "notify OrderPaid", under=produce)
    assert [ids(link.context) for link in notify.links] == [ids(batch.context)]
    publish = one(spans, SpanKind.PRODUCER, lambda s: s.name == f"apply_async/{TASK}", under=notify)
    one(spans, SpanKind.CONSUMER, lambda s: s.name == f"run/{TASK}", under=publish)
    # a run before the shopping projector wrote the order retries: its retries stay in the trace
    runs = [s for s in spans if s.name == f"run/{TASK}"]
    assert {s.context.trace_id for s in runs} == {request.context.trace_id}
    assert [s.attributes["celery.state"] for s in runs].count("SUCCESS") == 1


def wait_for(done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def key(record: Any) -> str:
    return record.key.decode() if isinstance(record.key, bytes) else str(record.key)


def ids(span_context: Any) -> tuple[int, int]:
    """What names a span, whether it was read from a header (remote) or recorded here."""
    return (span_context.trace_id, span_context.span_id)


def one(
    spans: Any, kind: SpanKind, matches: Any, under: ReadableSpan | None = None
) -> ReadableSpan:
    """The one span of `kind` that matches, a child of `under` when given."""
    found = [
        s
        for s in spans
        if s.kind == kind
        and matches(s)
        and (under is None or (s.parent is not None and s.parent.span_id == under.context.span_id))
    ]
    assert len(found) == 1, [
        (s.name, s.kind, s.parent, dict(s.attributes or {})) for s in spans if s.kind == kind
    ]
    if under is not None:
        assert found[0].context.trace_id == under.context.trace_id
    return found[0]
