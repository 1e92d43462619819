"""The stall helper freezes the real server and lets it go again."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from tests.support.stall import port_of, stalled

pytestmark = pytest.mark.integration


def test_port_of_reads_urls_and_bootstrap_lists() -> None:
    assert port_of("redis://127.0.0.1:6380/0") == 6380
    assert port_of("http://127.0.0.1:9201") == 9201
    assert port_of("127.0.0.1:9093,127.0.0.1:9094") == 9093


def test_a_stalled_redis_times_out_and_answers_again_afterwards() -> None:
    # given
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.3)
    assert client.ping() is True
    # when / then
    with stalled(settings.REDIS_URL), pytest.raises(redis.exceptions.TimeoutError):
        client.ping()
    fresh = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    assert fresh.ping() is True
