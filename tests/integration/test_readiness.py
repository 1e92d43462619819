"""/healthz and /readyz of both APIs against real and unreachable servers."""

from __future__ import annotations

import socket
import time

import pytest
from django.test import Client

from adapters import clients
from infra.stack.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_readyz_of_the_write_api_reports_its_dependencies_ready(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}


@pytest.mark.urls("infra.urls.read_api")
def test_readyz_of_the_read_api_also_checks_opensearch(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok", "opensearch": "ok"}


@pytest.mark.urls("infra.urls.read_api")
def test_readyz_is_503_quickly_when_a_server_is_down(client: Client, settings: object) -> None:
    # given: nothing listens on these ports
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # type: ignore[attr-defined]
    settings.OPENSEARCH_URL = f"http://127.0.0.1:{free_port()}"  # type: ignore[attr-defined]
    clients.opensearch_client.cache_clear()
    # when
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    clients.opensearch_client.cache_clear()
    # then
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert error["details"]["postgres"] == "ok"
    assert "Connection" in error["details"]["redis"]
    assert error["details"]["opensearch"] != "ok"
    assert elapsed < 5


@pytest.mark.urls("infra.urls.read_api")
def test_readyz_gives_up_on_a_server_that_accepts_but_never_answers(
    client: Client, settings: object
) -> None:
    # given: a socket that accepts connections and stays silent
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.REDIS_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"  # type: ignore[attr-defined]
        settings.READINESS_TIMEOUT_SECONDS = 0.5  # type: ignore[attr-defined]
        # when
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    # then
    assert response.status_code == 503
    assert response.json()["error"]["details"]["redis"] != "ok"
    assert elapsed < 3


@pytest.mark.urls("infra.urls.read_api")
def test_healthz_answers_without_touching_dependencies(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
