"""A worker process in its own container serves /metrics on METRICS_PORT."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from adapters.metrics_endpoint import serve_metrics
from projections import metrics


def test_without_metrics_port_nothing_listens() -> None:
    # given
    environ: dict[str, str] = {}
    # when
    port = serve_metrics(environ, addr="127.0.0.1")
    # then
    assert port is None


def test_with_metrics_port_the_process_counters_are_scraped() -> None:
    # given
    metrics.RELAY_STARTS.inc()
    expected = metrics.RELAY_STARTS._value.get()
    port = serve_metrics({"METRICS_PORT": "0"}, addr="127.0.0.1")
    # when
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        status, body = response.status, response.read().decode()
    # then
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    assert status == 200
    assert samples["shopstream_relay_starts_total"] == expected >= 1
