"""How long a replay waits out an outage of a backing server, and how it says so.

The live projectors retry an outage forever; a replay is an operator's command, so it
waits with back-off up to a bound per outage (`--outage-timeout`), telling the operator
it waits, and then gives up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("shopstream.replay")
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 5.0
OUTAGE_TIMEOUT_SECONDS = 300.0
Notice = Callable[[str], None]


class OutageOutlasted(Exception):
    """An outage lasted longer than the replay would wait."""


class Patience:
    """Back-off doubling up to MAX_BACKOFF_SECONDS while one outage lasts, `timeout` at most."""

    def __init__(
        self,
        timeout: float = OUTAGE_TIMEOUT_SECONDS,
        notice: Notice | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout, self.clock, self.sleep = timeout, clock, sleep
        self.notice = notice or (lambda line: None)
        self.since: float | None = None
        self.backoff = FIRST_BACKOFF_SECONDS

    def wait(self, projector: str, error: BaseException) -> None:
        """Sleep the next back-off, or raise OutageOutlasted once `timeout` is spent."""
        now = self.clock()
        if self.since is None:
            self.since, self.backoff = now, FIRST_BACKOFF_SECONDS
        waited = now - self.since
        if waited >= self.timeout:
            raise OutageOutlasted(
                f"a backing server stayed away for {waited:.0f} s (--outage-timeout "
                f"{self.timeout:g}): {error!r}"
            )
        pause = min(self.backoff, self.timeout - waited)
        log.warning(
            "replay_waiting_for_outage", projector=projector, waited=waited, error=repr(error)
        )
        self.notice(
            f"replay {projector}: a backing server is away ({error!r}); waiting "
            f"(waited {waited:.0f} s of {self.timeout:g} s), then continuing where it was"
        )
        self.sleep(pause)
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)

    def recovered(self) -> None:
        """The work went on: the next outage gets the whole timeout again."""
        self.since = None
