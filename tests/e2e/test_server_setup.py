"""The APIs' gunicorn setup as clients see it: kept-alive connections are handed back."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from infra.gunicorn_hooks import KEEPALIVE_REQUESTS
from tests.support.live_stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.mark.parametrize("api", ["write_url", "read_url"])
def test_a_kept_alive_connection_is_closed_cleanly_after_its_share_of_requests(
    live_stack: LiveStack, api: str
) -> None:
    # given: one kept-alive connection
    url = urlsplit(getattr(live_stack, api))
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        # when: it carries requests up to the limit
        answers = []
        for _ in range(KEEPALIVE_REQUESTS):
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Connection"), response.read()))
    finally:
        connection.close()
    # then: every request was answered on it, and only the last answer closed it
    assert answers[:-1] == [(200, "keep-alive", b'{"status":"ok"}')] * (KEEPALIVE_REQUESTS - 1)
    assert answers[-1] == (200, "close", b'{"status":"ok"}')
