"""docker-compose.yml's production view stays wired to what the code exports.

The compose-drift test (test_compose_file.py) keeps the app services in step with the
launcher; this one keeps Prometheus, Grafana, the OpenTelemetry collector and Jaeger in
step with the app services and with the metric names the code defines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from prometheus_client import REGISTRY
from prometheus_client.core import Metric

from infra import metrics as http_metrics
from infra.metrics import PipelineCollector
from projections import metrics as pipeline_metrics
from projections.lag import PipelineLag, ProjectorLag
from tests.unit.test_compose_file import (
    COMPOSE_FILE,
    app_services,
    command,
    environment,
    load_services,
    option,
    program,
)
from write_api import metrics as outcome_metrics

REPO = COMPOSE_FILE.parent
OBSERVABILITY_IMAGES = {
    "prometheus": "prom/prometheus",
    "grafana": "grafana/grafana",
    "otel-collector": "otel/opentelemetry-collector",
    "jaeger": "jaegertracing/all-in-one",
}
EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+")
METRIC_NAME = re.compile(r"\b(shopstream_[a-z0-9_]+)")
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
# What the issue asks the dashboard to show, by the series that show it.
DASHBOARD_MUST_SHOW = {
    "shopstream_http_requests_total",
    "shopstream_http_request_duration_seconds_bucket",
    "shopstream_projection_lag_events",
    "shopstream_relay_lag_events",
    "shopstream_parked_events",
    "shopstream_checkouts_total",
    "shopstream_payments_total",
}
# Imported for their side effect: their metrics are in the default registry.
REGISTERED = (http_metrics, pipeline_metrics, outcome_metrics)


def mounts(service: dict) -> dict[str, Path]:
    """Container path -> repository file or folder, of the service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            found[target] = REPO / source
    return found


def mounted_config(service: dict, container_path: str) -> dict:
    return yaml.safe_load(mounts(service)[container_path].read_text())


def prometheus_targets(services: dict[str, dict]) -> set[str]:
    prometheus = services["prometheus"]
    config_path = next(
        arg.split("=", 1)[1] for arg in command(prometheus) if arg.startswith("--config.file=")
    )
    config = mounted_config(prometheus, config_path)
    return {
        target
        for job in config["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for static in job["static_configs"]
        for target in static["targets"]
    }


def exported_series() -> set[str]:
    """Every series name the code's metrics produce (counters end in _total, ...)."""
    families: list[Metric] = list(REGISTRY.collect())
    families += PipelineCollector(PipelineLag(0, [ProjectorLag("p", 0, 0, 0.0, 0, 0.0)])).collect()
    return {
        family.name + suffix
        for family in families
        if family.name.startswith("shopstream_")
        for suffix in SUFFIXES.get(family.type, [""])
    }


def dashboards() -> dict[str, dict]:
    folder = REPO / "infra/observability/grafana/dashboards"
    return {path.name: json.loads(path.read_text()) for path in folder.glob("*.json")}


def panel_queries(dashboard: dict) -> list[str]:
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_prometheus_scrapes_every_long_running_app_process():
    # given
    services = load_services()
    processes = {n: s for n, s in app_services(services).items() if n != "migrate"}
    # when
    expected = set()
    for name, service in processes.items():
        argv = command(service)
        if program(argv)[:1] == ("gunicorn",):
            port = (option(argv, "--bind") or "").rpartition(":")[2]
        else:
            port = environment(service).get("METRICS_PORT", "unset")
        expected.add(f"{name}:{port}")
    # then
    assert prometheus_targets(services) == expected
    assert len(expected) == 6


def test_a_forking_worker_counts_its_children_in_a_fresh_multiprocess_dir():
    # given
    worker = load_services()["celery-worker"]
    # when
    metrics_dir = environment(worker).get("PROMETHEUS_MULTIPROC_DIR")
    # then
    assert metrics_dir in worker.get("tmpfs", [])


def test_the_dashboard_queries_only_series_the_code_exports_and_shows_what_the_issue_asks():
    # given
    exported = exported_series()
    boards = dashboards()
    # when
    queried = {e for board in boards.values() for e in panel_queries(board)}
    named = {m for e in queried for m in METRIC_NAME.findall(e)}
    # then
    assert list(boards) == ["shopstream.json"]
    assert named - exported == set()
    assert DASHBOARD_MUST_SHOW - named == set()


def test_grafana_provisions_the_repo_dashboard_and_a_datasource_on_the_prometheus_service():
    # given
    services = load_services()
    grafana = services["grafana"]
    provisioning = mounts(grafana)["/etc/grafana/provisioning"]
    # when
    sources = yaml.safe_load((provisioning / "datasources/datasources.yml").read_text())
    by_uid = {s["uid"]: s for s in sources["datasources"]}
    providers = yaml.safe_load((provisioning / "dashboards/dashboards.yml").read_text())
    dashboard_folder = providers["providers"][0]["options"]["path"]
    used_uids = {
        panel["datasource"]["uid"]
        for board in dashboards().values()
        for panel in board["panels"]
        if "datasource" in panel
    }
    prometheus_url = urlsplit(by_uid["prometheus"]["url"])
    # then
    assert by_uid["prometheus"]["type"] == "prometheus"
    assert (prometheus_url.hostname, prometheus_url.port) == ("prometheus", 9090)
    assert used_uids == {"prometheus"}
    assert mounts(grafana)[dashboard_folder] == REPO / "infra/observability/grafana/dashboards"


def test_the_apps_send_traces_to_the_collector_which_exports_them_to_jaeger():
    # given
    services = load_services()
    collector = services["otel-collector"]
    config_path = command(collector)[0].split("=", 1)[1]
    config = mounted_config(collector, config_path)
    apps = app_services(services)
    # when
    endpoints = {
        name: urlsplit(environment(s).get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
        for name, s in apps.items()
    }
    names = {name: environment(s).get("OTEL_SERVICE_NAME") for name, s in apps.items()}
    http_receiver = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    exporter_hosts = {
        urlsplit("//" + config["exporters"][e]["endpoint"]).hostname for e in exporters
    }
    # then
    assert {(u.hostname, u.port) for u in endpoints.values()} == {
        ("otel-collector", int(http_receiver.rpartition(":")[2]))
    }
    assert names == {name: f"shopstream-{name}" for name in apps}
    assert exporter_hosts == {"jaeger"}
    assert exporters == ["otlp/jaeger"]
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_every_image_is_pinned_and_the_observability_ones_to_an_exact_version():
    # given
    services = load_services()
    # when
    images = {name: s["image"] for name, s in services.items() if "image" in s}
    unpinned = {n: i for n, i in images.items() if ":" not in i or i.endswith(":latest")}
    observability = {n: images[n].partition(":") for n in OBSERVABILITY_IMAGES}
    # then
    assert unpinned == {}
    assert {n: repo for n, (repo, _, _) in observability.items()} == OBSERVABILITY_IMAGES
    assert [n for n, (_, _, tag) in observability.items() if not EXACT_VERSION.fullmatch(tag)] == []
