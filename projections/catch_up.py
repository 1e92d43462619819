"""The relay's progress while it re-publishes a long stretch of the log.

After `make replay` (or a broker that lost its events) the relay starts far behind the
store's head. Publishing up to the head it saw at start is then a long job: it reports
count, rate and ETA (`adapters.progress`: a bar on a terminal, a line every few seconds
under CI, into the launcher's log or `docker compose logs`), and stops reporting there.

`manage.py reset_relay` follows the same re-publish from the operator's terminal: the relay
runs in another process, and the checkpoint it records is all the two share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from adapters.progress import Progress, Report

# Below this the relay catches up within a couple of batches: nothing worth a progress line.
CATCH_UP_MIN_EVENTS = 1000
Published = Callable[[int], None]  # the last store position a batch published


def catch_up_reporter(
    start: int, head: int, stream: TextIO, min_events: int = CATCH_UP_MIN_EVENTS
) -> Published | None:
    """A callback for each published batch, or None when the relay is not far behind."""
    total = head - start
    if total < min_events:
        return None
    bar = Progress(stream, unit="events", description="relay catch-up")
    bar(0, total)
    progress: Progress | None = bar

    def published(position: int) -> None:
        nonlocal progress
        if progress is None:
            return
        progress(min(position, head) - start, total)
        if position >= head:
            progress.close()
            progress = None

    return published


def follow_checkpoint(
    load: Callable[[], int],
    start: int,
    head: int,
    progress: Report,
    stall_seconds: float,
    poll_seconds: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Report the checkpoint's way from `start` to `head`; the last position read, which is
    short of `head` when the checkpoint did not move for `stall_seconds`."""
    seen, moved_at = start, clock()
    while True:
        position = load()
        progress(max(0, min(position, head) - start), head - start)
        if position >= head:
            return position
        if position != seen:
            seen, moved_at = position, clock()
        elif clock() - moved_at >= stall_seconds:
            return position
        sleep(poll_seconds)
