"""A backing server stalls (SIGSTOP, as an overloaded or paused host looks) during shopping.

Redis stalls past the 2 s client timeouts; OpenSearch past two of the projector's 10 s
client timeouts (a failed batch, then the first event retried alone); the broker past
the consumers' 10 s session timeout. Writes during a stall may
answer 503, never 500. Once the server is back, every accepted write reaches every read
model and the index, which must equal a rebuild from the event store, with nothing
dead-lettered or parked.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import LiveStack
from tests.support.pipeline_state import dead_letters, parked_events
from tests.support.recovery import recover, store_head
from tests.support.stall import stalled
from tests.support.traffic import Parties, Traffic, served_differences, unreflected

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

# server -> (the variable holding its URL, how long it stays stalled)
STALLS = {
    "redis": ("REDIS_URL", 5.0),
    "opensearch": ("OPENSEARCH_URL", 22.0),
    "broker": ("KAFKA_BOOTSTRAP_SERVERS", 12.0),
}


@pytest.mark.parametrize("server", list(STALLS))
def test_writes_around_a_stalled_server_all_reach_every_read_model_and_the_index(
    live_stack: LiveStack, parties: Parties, server: str
) -> None:
    # given: customers shopping over HTTP
    variable, seconds = STALLS[server]
    tag = f"{server[:5]}{uuid.uuid4().hex[:6]}"
    since = store_head(live_stack)
    traffic = Traffic(parties, tag).start()
    try:
        traffic.wait_for_rounds(1)
        seen = traffic.seen_product()
        # when: the server stalls for a while, then resumes, and shopping goes on; during
        # the stall a product whose page was served changes and the category is renamed
        with stalled(live_stack.supervisor.base_env[variable]):
            traffic.restock(seen)
            traffic.rename_category()
            time.sleep(seconds)
        traffic.wait_for_rounds(1)
    finally:
        traffic.stop()
    # then: every read model, the index and the served pages equal a rebuild
    recovery = recover(live_stack, since)
    assert recovery.lag == {}
    assert recovery.differences == {}
    assert unreflected(traffic.accepted, recovery.stored) == []
    assert served_differences(traffic, recovery.rebuilt) == {}
    assert dead_letters(live_stack) == []
    assert parked_events(live_stack) == []
    # and: during the stall the APIs answered 2xx or 503 in the envelope, never 500
    assert traffic.unexpected_answers() == []
    assert len(traffic.accepted.orders) >= len(parties.customers) * 2
