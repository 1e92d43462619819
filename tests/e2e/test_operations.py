"""/metrics and /health/projections of both APIs, on the running stack.

The stack's processes (two gunicorn workers per API, the relay, the projectors) count into
one PROMETHEUS_MULTIPROC_DIR, as under the launcher; the lag is read from PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from infra.stack.processes import gunicorn
from infra.stack.servers import free_port, wait_for
from infra.stack.supervisor import Supervisor
from tests.support.live_stack import LiveStack, eventually, file_sink, paid_order
from tests.support.shop_data import ADDRESS, create_products

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROJECTORS = {"audit", "catalog", "notifications", "shopping"}
PIPELINE_GAUGES = [
    "shopstream_projection_lag_events",
    "shopstream_projection_lag_seconds",
    "shopstream_parked_events",
    "shopstream_parked_oldest_age_seconds",
]
PRODUCT_ROUTE = "/api/<version>/products/<uuid:product_id>"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str) -> Samples:
    response = requests.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def labelled(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


def projections_health(base_url: str) -> requests.Response:
    return requests.get(f"{base_url}/health/projections", timeout=10)


def caught_up(stack: LiveStack) -> bool:
    """Healthy, and nothing stored is left to publish or apply (under the threshold is not)."""
    response = projections_health(stack.read_url)
    if response.status_code != 200:
        return False
    report = response.json()
    lags = [p["lag_events"] for p in report["projectors"].values()]
    return report["relay_lag_events"] == 0 and not any(lags)


@contextmanager
def projectors_paused(stack: LiveStack) -> Iterator[None]:
    """The projector process stops consuming (SIGSTOP), briefly enough to keep its groups."""
    group = stack.supervisor.find("projector").process.pid
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def test_requests_are_counted_by_url_pattern_across_workers_on_both_apis(
    live_stack: LiveStack,
) -> None:
    # given
    labels = {"service": "read-api", "method": "GET", "route": PRODUCT_ROUTE, "status": "404"}
    before = value(scrape(live_stack.read_url), "shopstream_http_requests_total", **labels)
    missing = [str(uuid.uuid4()) for _ in range(6)]
    # when: each on a new connection, so both workers answer some
    for product_id in missing:
        response = requests.get(f"{live_stack.read_url}/api/v1/products/{product_id}", timeout=10)
        assert response.status_code == 404
    # then: every worker's count adds up, and either API reports the shared total
    for base_url in (live_stack.read_url, live_stack.write_url):
        samples = scrape(base_url)
        assert value(samples, "shopstream_http_requests_total", **labels) == before + 6
        latency = {k: v for k, v in labels.items() if k != "status"}
        assert value(samples, "shopstream_http_request_duration_seconds_count", **latency) >= 6
        routes = labelled(samples, "shopstream_http_requests_total", "route")
        assert not any(product_id in route for route in routes for product_id in missing)


def test_metrics_carry_no_personal_data_in_labels(live_stack: LiveStack) -> None:
    # given: a signed-up customer with a token, and a path that holds an email
    customer = live_stack.session("customer")
    token = customer.headers["Authorization"].removeprefix("Bearer ")
    assert customer.get(f"{live_stack.write_url}/api/v1/auth/me", timeout=10).status_code == 200
    nowhere = requests.get(f"{live_stack.read_url}/api/v1/users/bob@example.com/x", timeout=10)
    assert nowhere.status_code == 404
    # when
    text = requests.get(f"{live_stack.write_url}/metrics", timeout=10).text
    samples = scrape(live_stack.write_url)
    # then
    assert token not in text
    values = {v for _, labels in samples for _, v in labels}
    assert not [v for v in values if "@" in v]
    assert "<unmatched>" in labelled(samples, "shopstream_http_requests_total", "route")
    assert "/api/<version>/auth/me" in labelled(samples, "shopstream_http_requests_total", "route")


def test_checkouts_and_payments_are_counted_by_outcome_without_personal_data(
    live_stack: LiveStack,
) -> None:
    # given
    before = scrape(live_stack.write_url)
    # when: a customer checks out to an address and pays with a token
    _, customer, _ = paid_order(live_stack, "Metered")
    me = customer.get(f"{live_stack.write_url}/api/v1/auth/me", timeout=10).json()
    text = requests.get(f"{live_stack.write_url}/metrics", timeout=10).text
    samples = scrape(live_stack.write_url)
    # then: the outcomes are counted, in words, across the two workers
    for name, outcome in [
        ("shopstream_checkouts_total", "placed"),
        ("shopstream_payments_total", "paid"),
    ]:
        assert value(samples, name, outcome=outcome) == value(before, name, outcome=outcome) + 1
    values = {v for _, labels in samples for _, v in labels}
    personal = [me["email"], ADDRESS["line1"], ADDRESS["city"], ADDRESS["postcode"], "tok_ok"]
    assert [p for p in personal if p in text] == []
    assert [v for v in values if "@" in v] == []


def test_pipeline_gauges_and_process_counters_are_reported(live_stack: LiveStack) -> None:
    # given: something went through the pipeline
    create_products(live_stack.shop(), 2, name="Gauge")
    eventually(lambda: caught_up(live_stack), timeout=60, interval=0.2)
    # when
    samples = scrape(live_stack.read_url)
    # then: the gauges, one per projector
    for gauge in PIPELINE_GAUGES:
        assert labelled(samples, gauge, "projector") == PROJECTORS, gauge
    assert value(samples, "shopstream_relay_lag_events") == 0
    assert value(samples, "shopstream_projection_lag_events", projector="catalog") == 0
    # and the relay's and the projectors' own counters, written by those processes
    assert value(samples, "shopstream_relay_events_total") >= 2
    assert value(samples, "shopstream_relay_batches_total") >= 1
    assert value(samples, "shopstream_relay_starts_total") >= 1
    assert (
        value(samples, "shopstream_projector_events_total", projector="catalog", outcome="applied")
        >= 2
    )
    assert value(samples, "shopstream_projector_batch_seconds_count", projector="catalog") >= 1


def test_projection_health_is_503_naming_a_stopped_projector_and_200_after_catch_up(
    live_stack: LiveStack,
) -> None:
    # given
    eventually(lambda: caught_up(live_stack), timeout=60, interval=0.2)
    healthy = projections_health(live_stack.write_url).json()
    assert healthy["status"] == "ok"
    assert set(healthy["projectors"]) == PROJECTORS
    assert healthy["projectors"]["catalog"]["lag_events"] == 0
    # when: more product events than PROJECTION_LAG_MAX_EVENTS while the projectors are stopped
    with projectors_paused(live_stack):
        create_products(live_stack.shop(), 105, name="Lagging")
        behind = projections_health(live_stack.write_url)
        samples = scrape(live_stack.read_url)
    # then: the product's projectors are named, the others are not
    assert behind.status_code == 503, behind.text
    error = behind.json()["error"]
    assert error["code"] == "projections_lagging"
    assert set(error["details"]["lagging"]) == {"catalog", "audit"}
    catalog = error["details"]["projectors"]["catalog"]
    assert catalog["lag_events"] >= 105
    assert catalog["lag_seconds"] > 0
    assert "PROJECTION_LAG_MAX_EVENTS" in catalog["lagging"]
    assert error["details"]["projectors"]["shopping"]["lagging"] == []
    assert value(samples, "shopstream_projection_lag_events", projector="catalog") >= 105
    # and: once they caught up, healthy again
    eventually(lambda: caught_up(live_stack), timeout=90, interval=0.2)
    assert (
        projections_health(live_stack.write_url).json()["projectors"]["catalog"]["lag_events"] == 0
    )


def test_parked_events_are_counted_and_turn_health_503_once_old(live_stack: LiveStack) -> None:
    # given: an event parked for the catalog ten minutes ago (over PARKED_MAX_SECONDS)
    eventually(lambda: caught_up(live_stack), timeout=60, interval=0.2)
    aggregate = str(uuid.uuid4())
    live_stack.sql(
        "INSERT INTO projections_parkedevent (projector, aggregate_id, position, envelope,"
        " envelope_text, source, error, attempts, status, parked_at, resolved_by, reason)"
        " VALUES ('catalog', %s, NULL, '{}', '', 'test', 'boom', 3, 'parked',"
        " now() - interval '10 minutes', '', '') RETURNING id",
        aggregate,
    )
    try:
        # when
        response = projections_health(live_stack.read_url)
        samples = scrape(live_stack.write_url)
    finally:
        live_stack.sql(
            "DELETE FROM projections_parkedevent WHERE aggregate_id = %s RETURNING id", aggregate
        )
    # then
    assert value(samples, "shopstream_parked_events", projector="catalog") == 1
    assert value(samples, "shopstream_parked_oldest_age_seconds", projector="catalog") >= 600
    assert value(samples, "shopstream_parked_events", projector="shopping") == 0
    assert response.status_code == 503
    details = response.json()["error"]["details"]
    assert details["lagging"] == ["catalog"]
    assert details["projectors"]["catalog"]["parked_events"] == 1
    assert details["projectors"]["catalog"]["lagging"] == ["PARKED_MAX_SECONDS"]
    assert caught_up(live_stack)


@pytest.fixture(scope="module")
def api_without_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A read API whose PostgreSQL does not answer (nothing listens on its port)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
        "SHOPSTREAM_ENV": "test",
    }
    port = free_port()
    log = tmp_path_factory.mktemp("nodb") / "api.log"
    supervisor = Supervisor(env, sink=file_sink(log))
    supervisor.start(gunicorn("read-api", "read_api", port, "infra.settings.read_api"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/healthz", timeout=1).raise_for_status(), url)
        yield url
    finally:
        supervisor.stop_all(timeout=5)


@pytest.mark.parametrize("path", ["/metrics", "/health/projections"])
def test_a_database_that_is_down_answers_503_in_the_envelope(
    api_without_database: str, path: str
) -> None:
    response = requests.get(f"{api_without_database}{path}", timeout=30)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
