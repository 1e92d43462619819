"""Prometheus metrics of both APIs: HTTP counters per route, and the pipeline's lag.

HTTP metrics are prometheus_client's, kept in PROMETHEUS_MULTIPROC_DIR when it is set
(the launcher sets one per stack run): gunicorn's workers, and the relay and projector
processes, each write their own files there and any API's /metrics adds them all up.
Without the variable (tests in one process) the process's own registry is reported.
Pipeline gauges are read from PostgreSQL at scrape time (`projections.lag`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from projections.lag import PipelineLag

HTTP_REQUESTS = Counter(
    "shopstream_http_requests",
    "HTTP requests answered, by API process, method, URL pattern and status",
    ["service", "method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "shopstream_http_request_duration_seconds",
    "Time to answer an HTTP request, by API process, method and URL pattern",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A regex group of a URL pattern, "(?P<version>v1|v2)", is shown as "<version>".
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
UNMATCHED = "<unmatched>"


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered: never the path, so never an id, email or token."""
    match = getattr(request, "resolver_match", None)
    route = _NAMED_GROUP.sub(r"<\1>", match.route if match else "").strip("^$")
    return "/" + route if route else UNMATCHED


class HttpMetricsMiddleware:
    """First in the chain: it times everything the process does for a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.service = settings.SHOPSTREAM_SERVICE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        route = route_of(request)
        HTTP_SECONDS.labels(self.service, method, route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(self.service, method, route, str(response.status_code)).inc()
        return response


class PipelineCollector:
    """The gauges of one lag snapshot (read before the registry is built)."""

    def __init__(self, lag: PipelineLag) -> None:
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        relay = GaugeMetricFamily(
            "shopstream_relay_lag_events", "Stored events the relay has not published yet"
        )
        relay.add_metric([], self.lag.relay_lag_events)
        yield relay
        gauges = {
            "shopstream_projection_lag_events": (
                "Events of its aggregate types the projector has not applied",
                lambda p: p.lag_events,
            ),
            "shopstream_projection_lag_seconds": (
                "Age of the oldest stored event the projector has not applied (0 when none)",
                lambda p: p.lag_seconds,
            ),
            "shopstream_parked_events": (
                "Events parked for the projector, waiting for an operator",
                lambda p: p.parked_events,
            ),
            "shopstream_parked_oldest_age_seconds": (
                "Age of the oldest event parked for the projector (0 when none)",
                lambda p: p.parked_oldest_age_seconds,
            ),
        }
        for name, (documentation, value) in gauges.items():
            family = GaugeMetricFamily(name, documentation, labels=["projector"])
            for projector in self.lag.projectors:
                family.add_metric([projector.projector], value(projector))
            yield family


def exposition(lag: PipelineLag) -> bytes:
    """The text format of every process's counters, then the pipeline gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    pipeline = CollectorRegistry()
    pipeline.register(PipelineCollector(lag))
    return generate_latest(counters) + generate_latest(pipeline)
