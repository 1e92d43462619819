"""Progress of long operator commands: a tqdm bar on a terminal, a plain line otherwise.

Under CI, or when the output is a file or a pipe, a redrawn bar is noise: the same
numbers (count, rate, ETA, formatted by tqdm) are printed as one line every
`every_seconds` instead, and once more at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

Report = Callable[[int, int], None]  # (done, total)
LINE_EVERY_SECONDS = 5.0


def is_interactive(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("CI")


class Progress:
    """Call with (done, total) as work advances; `close()` when it ends."""

    def __init__(
        self,
        stream: TextIO,
        *,
        unit: str,
        description: str = "",
        every_seconds: float = LINE_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.unit, self.description = stream, unit, description
        self.every_seconds, self.clock = every_seconds, clock
        self.started = clock()
        self.printed_at: float | None = None
        self.last = (0, 0)
        self.bar: tqdm | None = None
        if is_interactive(stream):
            self.bar = tqdm(file=stream, unit=unit, desc=description or None, dynamic_ncols=True)

    def __call__(self, done: int, total: int) -> None:
        self.last = (done, total)
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        now = self.clock()
        if self.printed_at is None or now - self.printed_at >= self.every_seconds:
            self._line(now)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.printed_at is None or self.last != self._printed:
            self._line(self.clock())

    def _line(self, now: float) -> None:
        done, total = self.last
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        count = f"{done}/{total}" if total else str(done)
        eta = tqdm.format_interval((total - done) / rate) if rate and total else "?"
        prefix = f"{self.description}: " if self.description else ""
        self.stream.write(
            f"{prefix}{count} {self.unit}, {rate:.0f} {self.unit}/s, "
            f"elapsed {tqdm.format_interval(elapsed)}, ETA {eta}\n"
        )
        self.stream.flush()
        self.printed_at, self._printed = now, self.last

    _printed: tuple[int, int] = (-1, -1)


@contextmanager
def reporting(stream: TextIO, *, unit: str, description: str = "") -> Iterator[Progress]:
    """A Progress closed (its last line printed, its bar ended) however the work ends."""
    progress = Progress(stream, unit=unit, description=description)
    try:
        yield progress
    finally:
        progress.close()
