"""Kafka consumer settings of a projector process (tests keep the client's defaults)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# Small enough that a batch finishes well within the poll interval on a busy machine.
BATCH = 200
# The local broker (tansu) answers a fetch that found records only after this much more:
# a short wait keeps lag low, and costs nothing idle (the loop then waits on the bell).
FETCH_WAIT_MS = 5
# Bounds one batch: a 10k-product seed on a busy machine must not cost the member its
# partitions. The broker's join waits on the session timeout, not on this.
MIN_POLL_INTERVAL_MS = 30_000
HEARTBEAT_MS = 1_500  # a third of the session timeout (5 s by default)


def member_options() -> dict[str, Any]:
    """Overrides of `adapters.clients.kafka_consumer` for a long-running projector."""
    return {
        "fetch_max_wait_ms": FETCH_WAIT_MS,
        "max_poll_records": BATCH,
        "max_poll_interval_ms": max(settings.KAFKA_MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS),
        "heartbeat_interval_ms": HEARTBEAT_MS,
    }
