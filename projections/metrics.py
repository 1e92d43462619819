"""Counters of the relay and the projectors (prometheus_client).

Run under the launcher, these processes share the APIs' PROMETHEUS_MULTIPROC_DIR, so
either API's /metrics reports them next to its own; without that variable they count in
their own process only (tests). Labels are projector names, never data of an event.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RELAY_EVENTS = Counter("shopstream_relay_events", "Events the relay published (broker-acked)")
RELAY_BATCHES = Counter("shopstream_relay_batches", "Batches the relay published")
RELAY_FAILURES = Counter(
    "shopstream_relay_failures", "Batches the relay failed to publish (the process restarts)"
)
# The relay retries by restarting: a start after a failure re-publishes the unrecorded batch.
RELAY_STARTS = Counter("shopstream_relay_starts", "Times a relay started following the log")
RELAY_BATCH_SECONDS = Histogram(
    "shopstream_relay_batch_seconds", "Time to publish one batch, send to recorded position"
)

PROJECTOR_EVENTS = Counter(
    "shopstream_projector_events",
    "Messages a projector handled, by outcome (applied, parked, skipped)",
    ["projector", "outcome"],
)
PROJECTOR_BATCHES = Counter(
    "shopstream_projector_batches", "Partition batches a projector committed", ["projector"]
)
PROJECTOR_FAILURES = Counter(
    "shopstream_projector_failures",
    "Batches that failed: an outage rolled them back, or an event in them failed to apply",
    ["projector"],
)
PROJECTOR_RETRIES = Counter(
    "shopstream_projector_retries",
    "Retries: a rolled-back batch read again, or one event tried again before it parks",
    ["projector"],
)
PROJECTOR_BATCH_SECONDS = Histogram(
    "shopstream_projector_batch_seconds",
    "Time to handle one partition batch, in its transaction",
    ["projector"],
)
