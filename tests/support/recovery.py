"""After a fault: wait (bounded) for the pipeline to catch up, then compare with a rebuild."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from projections.audit.models import AuditEvent
from projections.shopping.models import OrderView
from projections.tasks import send_order_email
from tests.support.pipeline_state import Stack as PipelineStack
from tests.support.pipeline_state import parked_events, wait_until_caught_up
from tests.support.rebuilt_read_models import ReadModels, Touched, differences, rebuilt, stored
from tests.support.rebuilt_read_models import Stack as ReadModelStack
from tests.support.traffic import Traffic, served_differences, unreflected

# No email sent for this long: the rest will not come. An email whose order's row was late (its
# projector was down) waits out the task's retry countdown, up to `retry_backoff_max` with
# jitter, before it sends: a shorter window called such a delayed email missing (a failed CI run).
STALLED_AFTER_SECONDS = send_order_email.retry_backoff_max + 5
# An asynchronous charge's webhook comes within this (Celery retries every 2 s, and redelivers
# a task lost in a Redis stall after its 6 s visibility timeout). An attempt left in flight by
# a failed gateway call stays so until the reconciliation (minutes): not waited for.
PAYMENTS_SETTLE_SECONDS = 15


class Stack(PipelineStack, ReadModelStack, Protocol):
    """A running stack both checks can look at."""


@dataclass
class Recovery:
    lag: dict[str, str]  # what had not reached its projector when the wait ended
    differences: dict[str, dict[str, Any]]  # read models against the rebuild, model by model
    rebuilt: ReadModels
    stored: ReadModels


def recover(
    stack: Stack, since: int = 0, catch_up_timeout: float = 90, settle_timeout: float = 60
) -> Recovery:
    """Let the pipeline catch up, then compare the rows the events after `since` touched.

    Once every projector holds the last published position its rows are final; only
    the emails may still be on their way (a worker sends them one by one, slowly), so
    they are waited for while they keep arriving, within `settle_timeout`.
    """
    lag = wait_until_caught_up(stack, catch_up_timeout)
    if not lag and wait_for_payments(stack, since, PAYMENTS_SETTLE_SECONDS):
        lag = wait_until_caught_up(stack, catch_up_timeout)  # what the settlements stored
    deadline = time.monotonic() + (settle_timeout if not lag else 0)
    progress_at, unsent = time.monotonic(), None
    while True:
        want, touched = rebuild(stack, since)
        got = stored(stack)
        found = differences(want, got, touched)
        now = time.monotonic()
        waiting = emails_unsent(found)
        if unsent is None or waiting < unsent:
            progress_at, unsent = now, waiting
        if not waiting or now >= deadline or now - progress_at > STALLED_AFTER_SECONDS:
            return Recovery(lag, found, want, got)
        time.sleep(1)


def wait_for_payments(stack: Stack, since: int, timeout: float) -> bool:
    """Wait (bounded) until no order touched since `since` has a payment in flight; True if
    there was one at first. A `tok_async` charge settles by the gateway's webhook, which a Celery
    task delivers: after a Redis stall, once the broker's visibility timeout has passed, so
    its order and products may still change after the pipeline has caught up."""
    deadline, waited = time.monotonic() + timeout, False
    while payments_in_flight(stack, since) and time.monotonic() < deadline:
        waited = True
        time.sleep(0.5)
    return waited


def payments_in_flight(stack: Stack, since: int) -> int:
    orders, audit = OrderView._meta.db_table, AuditEvent._meta.db_table  # names from code
    query = (
        f'SELECT count(*) FROM "{orders}" o WHERE o.payment = %s AND EXISTS '  # noqa: S608
        f'(SELECT 1 FROM "{audit}" a WHERE a.aggregate_id = o.id AND a.position > %s)'
    )
    return int(stack.sql(query, "pending", since)[0][0])


def emails_unsent(found: dict[str, dict[str, Any]]) -> int:
    return int(found.get("emails", {}).get("missing", {}).get("count", 0))


def rebuild(stack: Stack, since: int) -> tuple[ReadModels, Touched]:
    shop = stack.shop()
    try:
        return rebuilt(shop, since)
    finally:
        shop.close()


def store_head(stack: Stack) -> int:
    """The notification position of the last stored event (0 for an empty store)."""
    shop = stack.shop()
    try:
        return shop.recorder.max_notification_id() or 0
    finally:
        shop.close()


def assert_recovered_like_a_rebuild(stack: Stack, since: int, traffic: Traffic) -> None:
    """Every read model, the index and the served pages equal a rebuild of the events since
    `since`; every accepted write shows, nothing is parked."""
    recovery = recover(stack, since)
    # Support modules are not rewritten by pytest: each assert says what it found.
    assert recovery.lag == {}, recovery.lag
    assert recovery.differences == {}, recovery.differences
    assert (missing := unreflected(traffic.accepted, recovery.stored)) == [], missing
    assert (served := served_differences(traffic, recovery.rebuilt)) == {}, served
    assert (parked := parked_events(stack, since)) == [], parked
