"""When the projector loop flushes the cache-bump outbox, and how a failed flush waits."""

from __future__ import annotations

import time

import pytest
import redis.exceptions

from projections.cache_flusher import FIRST_BACKOFF_SECONDS, CacheFlusher


class Outbox:
    """Stands in for the flush call: fails while Redis is 'away', counts the calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def flush(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise redis.exceptions.TimeoutError("Timeout reading from socket")
        return 3


def test_a_failed_flush_backs_off_then_retries_and_never_raises() -> None:
    # given
    outbox = Outbox(failures=1)
    flusher = CacheFlusher(outbox.flush)
    # when: the first flush meets Redis away, and the loop comes round at once
    flusher.flush_when_due()
    flusher.flush_when_due()
    # then: one try only, recorded as a failure
    assert (outbox.calls, flusher.failures) == (1, 1)
    # when: the back-off has passed
    time.sleep(FIRST_BACKOFF_SECONDS + 0.05)
    flusher.flush_when_due()
    # then
    assert (outbox.calls, flusher.failures) == (2, 0)


def test_a_clean_flusher_waits_for_a_commit_or_the_idle_check() -> None:
    # given: a first flush at start (leftovers of a crash) that found the outbox empty
    outbox = Outbox(failures=0)
    flusher = CacheFlusher(outbox.flush)
    flusher.flush_when_due()
    # when: nothing was recorded since
    flusher.flush_when_due()
    # then
    assert outbox.calls == 1
    # when: a commit recorded bumps
    flusher.recorded()
    flusher.flush_when_due()
    # then
    assert outbox.calls == 2


def test_a_flush_that_fails_for_a_reason_other_than_an_outage_raises() -> None:
    # given: a flush with a bug in it, not a server away
    def broken() -> int:
        raise KeyError("gen:product")

    flusher = CacheFlusher(flush=broken)
    # when / then
    with pytest.raises(KeyError):
        flusher.flush_when_due()
    assert flusher.failures == 0
