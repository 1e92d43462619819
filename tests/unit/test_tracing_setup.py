"""What each process gets from infra.tracing, and that log lines name their trace.

Setting tracing up is once per process (a global provider and patched libraries), so each
mode is observed in a fresh interpreter.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from infra.logging import ACCESS_LOGGER, add_trace_ids, log_access

OBSERVE = """
import json, logging, os
from kafka import KafkaProducer
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry import trace
from adapters.tracing import current_traceparent
from infra.tracing import configure_tracing

provider = configure_tracing()
with trace.get_tracer("probe").start_as_current_span("command") as span:
    traceparent = current_traceparent()
    recording = span.is_recording()
processors = getattr(provider, "_active_span_processor", None)
print(json.dumps({
    "configured": provider is not None,
    "provider": type(trace.get_tracer_provider()).__name__,
    "kafka_instrumented": hasattr(KafkaProducer.send, "__wrapped__"),
    "psycopg_instrumented": PsycopgInstrumentor().is_instrumented_by_opentelemetry,
    "traceparent": traceparent,
    "recording": recording,
    "processors": [type(p).__name__ for p in getattr(processors, "_span_processors", ())],
}))
"""


BEAT = """
import json
from celery.signals import beat_init
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
import infra.celery_app

beat_init.send(sender=None)
print(json.dumps({
    "provider": type(trace.get_tracer_provider()).__name__,
    "celery_instrumented": CeleryInstrumentor().is_instrumented_by_opentelemetry,
}))
"""


def observe(script: str = OBSERVE, **env: str) -> dict[str, Any]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SHOPSTREAM_TRACE_IDS"))
    }
    base.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.test")
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def sampled(traceparent: str) -> bool:
    return bool(int(traceparent.rsplit("-", 1)[1], 16) & 1)


@pytest.mark.slow
def test_with_the_sdk_disabled_nothing_is_set_up_and_no_traceparent_is_stored() -> None:
    # when
    seen = observe(OTEL_SDK_DISABLED="true", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    # then
    assert seen == NOTHING_SET_UP


NOTHING_SET_UP = {
    "configured": False,
    "provider": "ProxyTracerProvider",
    "kafka_instrumented": False,
    "psycopg_instrumented": False,
    "traceparent": None,
    "recording": False,
    "processors": [],
}


@pytest.mark.slow
def test_by_default_without_an_endpoint_tracing_is_off_and_costs_nothing() -> None:
    # when
    seen = observe()
    # then
    assert seen == NOTHING_SET_UP


@pytest.mark.slow
def test_asked_for_ids_spans_have_ids_but_record_and_export_nothing() -> None:
    # when
    seen = observe(SHOPSTREAM_TRACE_IDS="true")
    # then
    assert seen["configured"] is True
    assert seen["provider"] == "TracerProvider"
    assert (seen["kafka_instrumented"], seen["psycopg_instrumented"]) == (True, False)
    assert seen["traceparent"].startswith("00-")
    assert sampled(seen["traceparent"]) is False
    assert (seen["recording"], seen["processors"]) == (False, [])


@pytest.mark.slow
def test_with_an_endpoint_every_span_is_recorded_and_batched_to_otlp() -> None:
    # when: no span ends, so nothing is sent to the (absent) collector
    seen = observe(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    # then
    assert sampled(seen["traceparent"]) is True
    assert seen["psycopg_instrumented"] is True
    assert (seen["recording"], seen["processors"]) == (True, ["BatchSpanProcessor"])


def test_a_structlog_line_written_in_a_span_carries_its_trace_and_span_ids() -> None:
    # given
    tracer = TracerProvider().get_tracer("test")
    # when
    with tracer.start_as_current_span("work") as span:
        event = add_trace_ids(None, "info", {"event": "projected"})
    outside = add_trace_ids(None, "info", {"event": "idle"})
    # then
    ids = span.get_span_context()
    assert event == {
        "event": "projected",
        "trace_id": f"{ids.trace_id:032x}",
        "span_id": f"{ids.span_id:016x}",
    }
    assert outside == {"event": "idle"}


def test_an_access_line_carries_the_request_spans_trace_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    tracer = TracerProvider().get_tracer("test")
    # when
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        with tracer.start_as_current_span("GET /products") as span:
            log_access({"event": "request", "status": 200})
        log_access({"event": "request", "status": 204})
    # then
    inside, outside = (record.msg for record in caplog.records)
    assert inside["trace_id"] == f"{span.get_span_context().trace_id:032x}"  # type: ignore[index]
    assert "trace_id" not in outside  # type: ignore[operator]


@pytest.mark.parametrize(
    ("env", "traced"), [({}, False), ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, True)]
)
def test_beat_sets_up_tracing_when_it_starts_as_a_worker_process_does(
    env: dict[str, str], traced: bool
) -> None:
    # when: beat starts (its beat_init signal), with tracing off and with an endpoint
    seen = observe(BEAT, **env)
    # then: only with the endpoint is the SDK installed and Celery's publishing traced
    assert seen == {
        "provider": "TracerProvider" if traced else "ProxyTracerProvider",
        "celery_instrumented": traced,
    }
