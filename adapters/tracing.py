"""W3C trace context across the event store and Kafka: the OpenTelemetry API only, no SDK.

A command stores the `traceparent` of its span in each event's metadata; the relay sends
each event inside that context, so the kafka-python instrumentation's produce span joins
the command's trace and writes its own `traceparent` header; a projector's batch span links
to every message's header, and per-event work (an email task) continues the event's trace.
With no SDK installed (`OTEL_SDK_DISABLED=true`) every function here is a cheap no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from kafka import KafkaProducer
from opentelemetry import context, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
KafkaHeaders = list[tuple[str, bytes]]

_w3c = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("shopstream")


def current_traceparent() -> str | None:
    """The `traceparent` of the span running now, None when there is none (tracing off)."""
    carrier: dict[str, str] = {}
    _w3c.inject(carrier)
    return carrier.get(TRACEPARENT)


def span_context_of(traceparent: str | None) -> trace.SpanContext | None:
    """The remote span a `traceparent` names, None if it is missing or malformed."""
    if not traceparent:
        return None
    span_context = trace.get_current_span(
        _w3c.extract({TRACEPARENT: traceparent})
    ).get_span_context()
    return span_context if span_context.is_valid else None


def header_traceparent(headers: KafkaHeaders | None) -> str | None:
    """The first `traceparent` header of a Kafka record, decoded."""
    for key, value in headers or ():
        if key == TRACEPARENT and value:
            return value.decode("ascii", errors="replace")
    return None


def links_to(traceparents: Iterable[str | None]) -> list[trace.Link]:
    """One link per distinct valid trace context (a batch span links to what it processes)."""
    seen: set[tuple[int, int]] = set()
    links = []
    for traceparent in traceparents:
        span_context = span_context_of(traceparent)
        if span_context is None:
            continue
        ids = (span_context.trace_id, span_context.span_id)
        if ids not in seen:
            seen.add(ids)
            links.append(trace.Link(span_context))
    return links


@contextmanager
def within(traceparent: str | None) -> Iterator[None]:
    """Make the span a `traceparent` names the parent of spans started inside (e.g. a send)."""
    span_context = span_context_of(traceparent)
    if span_context is None:
        yield
        return
    token = context.attach(trace.set_span_in_context(trace.NonRecordingSpan(span_context)))
    try:
        yield
    finally:
        context.detach(token)


@contextmanager
def continuing(name: str, traceparent: str | None, **attributes: str) -> Iterator[None]:
    """A span in the event's trace (child of `traceparent`) linked to the span running now.

    The notifications consumer enqueues an email inside one: the Celery instrumentation's
    publish span, and then the task's run span, belong to the command's trace, and the
    link leads back to the projector's batch span.
    """
    current = trace.get_current_span().get_span_context()
    linked = current.is_valid and span_context_of(traceparent) is not None
    links = [trace.Link(current)] if linked else None  # else the current span is its parent
    with (
        within(traceparent),
        _tracer.start_as_current_span(name, links=links, attributes=attributes),
    ):
        yield


def trace_headers(traceparent: str) -> KafkaHeaders:
    """The Kafka headers carrying a stored trace context as it is."""
    return [(TRACEPARENT, traceparent.encode("ascii"))]


def kafka_sends_traced() -> bool:
    """Whether the kafka-python instrumentation wraps sends (it then writes `traceparent`).

    Adding our own header as well would leave two; a reader takes the first one.
    """
    return bool(getattr(KafkaProducer.send, "__wrapped__", None))


@contextmanager
def processing(topic: str, group: str, headers: Iterable[KafkaHeaders | None]) -> Iterator[None]:
    """A consumer's span over one batch of `topic`, linked to each record's `traceparent`.

    Named and attributed after OpenTelemetry's messaging conventions (batch processing:
    links, not a parent). Links are read only when the span records: nothing when off.
    """
    attributes = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation": "process",
        "messaging.operation.type": "process",
        "messaging.consumer.group.name": group,
    }
    with _tracer.start_as_current_span(
        f"process {topic}", kind=trace.SpanKind.CONSUMER, attributes=attributes
    ) as span:
        if span.is_recording():
            batch = list(headers)
            span.set_attribute("messaging.batch.message_count", len(batch))
            for link in links_to(header_traceparent(h) for h in batch):
                span.add_link(link.context)
        yield
