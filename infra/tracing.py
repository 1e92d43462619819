"""The OpenTelemetry SDK of every process, set up once by its entry point.

Called by the WSGI modules (each gunicorn worker imports them after the fork: no
`--preload`), by manage.py (the relay, the projectors) and by each Celery worker process
(`worker_process_init`), so the span processor's thread always lives in the process
that records.

Three modes, so tracing costs nothing unless asked for:
- off (the default with no endpoint, or `OTEL_SDK_DISABLED=true` always): no provider, no
  instrumentation. No `traceparent` is stored and log lines carry no `trace_id`. The
  read bench measured the instrumentation alone, unrecorded, at ~0.2 ms CPU per request.
- ids (`SHOPSTREAM_TRACE_IDS=true`, no endpoint): the SDK's provider and the Django,
  kafka-python, Celery and requests instrumentations (`/healthz`, `/readyz`, `/metrics`
  untraced; OTEL_PYTHON_DJANGO_EXCLUDED_URLS replaces the list). Spans are not sampled: they
  have ids (stored `traceparent`, `trace_id` in logs) but record nothing and go nowhere, and
  psycopg is not instrumented (its spans would be leaves nobody sees).
- export (`OTEL_EXPORTER_OTLP_ENDPOINT` set): as ids, and every trace is recorded, psycopg
  included, and exported over OTLP/HTTP in batches; `OTEL_TRACES_SAMPLER` and the other
  standard variables still apply.
"""

from __future__ import annotations

import os

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBasedTraceIdRatio, Sampler

_provider: TracerProvider | None = None
# Probes and scrapes are frequent and say nothing about a checkout: untraced, they cost nothing.
# OTEL_PYTHON_DJANGO_EXCLUDED_URLS replaces this list.
UNTRACED_URLS = "/healthz$,/readyz$,/metrics$"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def tracing_disabled() -> bool:
    return _flag("OTEL_SDK_DISABLED")


def tracing_wanted() -> bool:
    """Spans are exported, or their ids are asked for in logs and events."""
    return exporting() or _flag("SHOPSTREAM_TRACE_IDS")


def exporting() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install the provider and the instrumentations (once); None when tracing is disabled.

    `exporter` (tests: the SDK's in-memory exporter) receives every span synchronously, and
    turns tracing on unless it is disabled.
    """
    global _provider
    if tracing_disabled() or (_provider is None and exporter is None and not tracing_wanted()):
        return None
    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create({"service.name": _service_name()}),
            sampler=_sampler(recording=exporter is not None or exporting()),
        )
        if exporting():
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_provider)
        _instrument(recording=exporter is not None or exporting())
    if exporter is not None:
        _provider.add_span_processor(SimpleSpanProcessor(exporter))
    return _provider


def _service_name() -> str:
    return os.environ.get("OTEL_SERVICE_NAME") or str(settings.SHOPSTREAM_SERVICE)


def _sampler(recording: bool) -> Sampler | None:
    """None (the SDK reads OTEL_TRACES_SAMPLER) when one is configured."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    return ParentBasedTraceIdRatio(1.0) if recording else ALWAYS_OFF


def _instrument(recording: bool) -> None:
    """psycopg's spans are leaves: unrecorded they would only cost, so only when recording."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.kafka import KafkaInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    excluded = os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS") or os.environ.get(
        "OTEL_PYTHON_EXCLUDED_URLS"
    )
    DjangoInstrumentor().instrument(excluded_urls=excluded or UNTRACED_URLS)
    if recording:
        PsycopgInstrumentor().instrument(enable_commenter=False)
    KafkaInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    RequestsInstrumentor().instrument()
