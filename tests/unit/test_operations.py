"""What /metrics labels and /health/projections judge, without servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import resolve

from infra.metrics import UNMATCHED, route_of
from infra.operations import over_thresholds
from infra.stack.processes import fresh_metrics_dir
from projections.lag import AGGREGATE_TOPICS, ProjectorLag
from projections.registry import AGGREGATE_TYPES_BY_PROJECTOR, PROJECTORS


def routed(path: str, urlconf: str = "infra.urls.read_api") -> str:
    request = RequestFactory().get(path)
    request.resolver_match = resolve(path, urlconf)
    return route_of(request)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (
            "/api/v1/orders/8d0e6a4e-1f4b-4a59-9d4e-3b5c8f0f6a11",
            "/api/<version>/orders/<uuid:order_id>",
        ),
        ("/api/v2/products/search", "/api/<version>/products/search"),
        ("/healthz", "/healthz"),
        ("/users/alice@example.com/token/abc.def", UNMATCHED),
    ],
)
def test_a_request_is_labelled_by_its_url_pattern_never_its_path(path: str, route: str) -> None:
    assert routed(path) == route


def test_a_request_no_pattern_resolved_is_unmatched() -> None:
    assert route_of(RequestFactory().get("/anything")) == UNMATCHED


def lag(**overrides: float) -> ProjectorLag:
    values: dict[str, float] = {
        "lag_events": 0,
        "lag_seconds": 0.0,
        "parked_events": 0,
        "parked_oldest_age_seconds": 0.0,
        **overrides,
    }
    return ProjectorLag(
        projector="catalog",
        position=1,
        lag_events=int(values["lag_events"]),
        lag_seconds=values["lag_seconds"],
        parked_events=int(values["parked_events"]),
        parked_oldest_age_seconds=values["parked_oldest_age_seconds"],
    )


def test_thresholds_are_the_documented_defaults_and_each_is_named_when_crossed() -> None:
    assert over_thresholds(lag(lag_events=100, lag_seconds=30, parked_oldest_age_seconds=300)) == []
    assert over_thresholds(lag(lag_events=101)) == ["PROJECTION_LAG_MAX_EVENTS"]
    assert over_thresholds(lag(lag_seconds=30.5)) == ["PROJECTION_LAG_MAX_SECONDS"]
    assert over_thresholds(lag(parked_events=1, parked_oldest_age_seconds=301)) == [
        "PARKED_MAX_SECONDS"
    ]
    # a fresh parked event is counted, not yet alarming
    assert over_thresholds(lag(parked_events=3, parked_oldest_age_seconds=10)) == []


def test_every_projector_has_its_aggregate_topics_for_the_lag() -> None:
    assert set(AGGREGATE_TYPES_BY_PROJECTOR) == set(PROJECTORS)
    for types in AGGREGATE_TYPES_BY_PROJECTOR.values():
        assert all(AGGREGATE_TOPICS[t].startswith("shopstream.") for t in types)


def test_each_stack_run_starts_with_an_empty_metrics_directory(tmp_path: Path) -> None:
    # given: files a previous run left
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_123.db").write_bytes(b"old")
    # when
    fresh = fresh_metrics_dir(tmp_path / "metrics")
    # then
    assert fresh.is_dir()
    assert list(fresh.iterdir()) == []
