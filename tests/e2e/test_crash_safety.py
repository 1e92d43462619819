"""SIGKILL the relay and the projectors mid-stream: every event lands exactly once in effect.

After the kills, every read model and the search index must equal a rebuild from the
event store, with nothing parked.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import uuid
from decimal import Decimal

import pytest

from infra.stack.processes import pipeline_processes
from tests.support.live_stack import LiveStack, eventually
from tests.support.pipeline_state import parked_events
from tests.support.recovery import assert_recovered_like_a_rebuild, recover, store_head
from tests.support.shop_data import create_product
from tests.support.traffic import Parties, Traffic
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

EVENTS = 1_200
# The relay and every projector process, each killed this many times in turn.
PIPELINE = [spec.name for spec in pipeline_processes()]
KILLS_EACH = 3
KILL_INTERVAL_SECONDS = 2.0


def append_products(stack: LiveStack, count: int, appended: list[int]) -> None:
    shop = stack.shop()
    try:
        for i in range(count):
            create_product(
                shop,
                name=f"Crash {i}",
                description=f"item {i}",
                price=Decimal(f"{1 + i % 50}.99"),
                stock=i % 7,
                seller_id=None,
                context=CommandContext(actor_role="system", request_id=f"crash-{i}"),
            )
            appended.append(i)
    finally:
        shop.close()


def kill_and_restart(stack: LiveStack, name: str) -> None:
    """SIGKILL the running copy of `name` (unless it just died on its own) and start it again."""
    stack.restart(name)
    with contextlib.suppress(ProcessLookupError):
        stack.supervisor.kill(name, signal.SIGKILL)
    stack.restart(name)


def test_sigkilled_relay_and_projector_lose_and_duplicate_nothing(live_stack: LiveStack) -> None:
    # given: a stream of events being appended while the pipeline runs
    since = store_head(live_stack)
    appended: list[int] = []
    writer = threading.Thread(target=append_products, args=(live_stack, EVENTS, appended))
    writer.start()
    # when: each pipeline process is killed mid-stream and restarted
    eventually(lambda: len(appended) >= EVENTS // 4, timeout=60)
    live_stack.supervisor.kill("relay", signal.SIGKILL)
    eventually(lambda: len(appended) >= EVENTS // 2, timeout=60)
    live_stack.restart("relay")
    live_stack.supervisor.kill("projector", signal.SIGKILL)
    eventually(lambda: len(appended) >= 3 * EVENTS // 4, timeout=60)
    live_stack.restart("projector")
    writer.join(timeout=120)
    assert len(appended) == EVENTS
    # then: every read model and the index equal a rebuild from the event store
    recovery = recover(live_stack, since)
    assert recovery.lag == {}
    assert recovery.differences == {}
    assert parked_events(live_stack, since) == []
    crashed = [p for p in recovery.rebuilt.products.values() if p["name"].startswith("Crash ")]
    assert len(crashed) == EVENTS


def test_relay_and_projectors_killed_in_a_loop_while_shopping_leave_every_read_model_whole(
    live_stack: LiveStack, parties: Parties
) -> None:
    # given: customers shopping over HTTP
    tag = f"kill{uuid.uuid4().hex[:6]}"
    since = store_head(live_stack)
    traffic = Traffic(parties, tag).start()
    try:
        traffic.wait_for_rounds(1)
        watched = traffic.served_watched_product()
        # when: the relay and each projector process are SIGKILLed in turn, again and again,
        # while a product whose page was served changes and the category is renamed
        for kill, name in enumerate(PIPELINE * KILLS_EACH):
            time.sleep(KILL_INTERVAL_SECONDS)
            kill_and_restart(live_stack, name)
            if kill == len(PIPELINE):
                traffic.restock(watched)
                traffic.rename_category()
        traffic.wait_for_rounds(1)
    finally:
        traffic.stop()
    # then: every read model, the index and the served pages equal a rebuild
    assert_recovered_like_a_rebuild(live_stack, since, traffic)
    # and: nothing failed on the write or read side, and the shopping really happened
    assert traffic.unexpected_answers() == []
    assert len(traffic.accepted.orders) >= len(parties.customers)
