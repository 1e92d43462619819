"""`/metrics` of a worker process (relay, projector, Celery) when METRICS_PORT is set.

The APIs serve /metrics through Django. A worker has no HTTP server of its own, so in a
deployment where it runs in its own container (docker-compose.yml) Prometheus scrapes
this small one instead. With PROMETHEUS_MULTIPROC_DIR set (a Celery worker's forked
children count into it) it reports every process that writes there; otherwise the
process's own registry. Unset (the launcher, tests) nothing listens: under the launcher
the workers share the APIs' PROMETHEUS_MULTIPROC_DIR and either API reports them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

PORT_VARIABLE = "METRICS_PORT"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - scraped from another container


def metrics_registry(environ: Mapping[str, str] = os.environ) -> CollectorRegistry:
    """Every process's counters in multiprocess mode, else this process's registry."""
    if not environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def serve_metrics(
    environ: Mapping[str, str] = os.environ, addr: str = ALL_INTERFACES
) -> int | None:
    """Start the endpoint in a daemon thread; the port it listens on, or None when unset."""
    port = environ.get(PORT_VARIABLE, "").strip()
    if not port:
        return None
    server, _ = start_http_server(int(port), addr=addr, registry=metrics_registry(environ))
    return int(server.server_port)
