"""How the launcher runs the APIs' servers: workers and threads, and what is sized to them."""

from __future__ import annotations

import pytest
from django.conf import settings

from adapters.clients import opensearch_client
from infra.stack.processes import THREADS, gunicorn


def test_the_search_client_pools_a_connection_for_each_request_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a server process with the launcher's thread count
    spec = gunicorn("read-api", "read_api", 8001, "infra.settings.read_api")
    monkeypatch.setattr(settings, "SERVER_THREADS", int(spec.env["SERVER_THREADS"]))
    opensearch_client.cache_clear()
    try:
        # when
        pool = opensearch_client().transport.get_connection().pool
        # then
        assert spec.argv[spec.argv.index("--threads") + 1] == str(THREADS)
        assert pool.pool.maxsize == THREADS  # urllib3 keeps at most this many
    finally:
        opensearch_client.cache_clear()
