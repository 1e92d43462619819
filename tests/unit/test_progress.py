"""Long commands report count, rate and ETA: a bar on a terminal, a line every few seconds
under CI or into a file."""

from __future__ import annotations

import io

import pytest

from adapters.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drive(progress: Progress, clock: list[float], steps: int, total: int) -> None:
    for step in range(steps + 1):
        clock[0] = float(step)
        progress(step * total // steps, total)
    progress.close()


def test_into_a_file_it_prints_a_line_every_few_seconds_and_at_the_end() -> None:
    out, clock = io.StringIO(), [0.0]
    progress = Progress(
        out, unit="events", description="rebuild", every_seconds=5, clock=lambda: clock[0]
    )
    drive(progress, clock, steps=12, total=1200)
    assert out.getvalue().splitlines() == [
        "rebuild: 0/1200 events, 0 events/s, elapsed 00:00, ETA ?",
        "rebuild: 500/1200 events, 100 events/s, elapsed 00:05, ETA 00:07",
        "rebuild: 1000/1200 events, 100 events/s, elapsed 00:10, ETA 00:02",
        "rebuild: 1200/1200 events, 100 events/s, elapsed 00:12, ETA 00:00",
    ]


def test_under_ci_a_terminal_gets_lines_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    out, clock = Terminal(), [0.0]
    drive(Progress(out, unit="documents", clock=lambda: clock[0]), clock, steps=2, total=10)
    assert "\r" not in out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("10/10 documents, 5 documents/s")


def test_on_a_terminal_it_draws_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out, clock = Terminal(), [0.0]
    drive(Progress(out, unit="documents", description="rebuild"), clock, steps=4, total=40)
    drawn = out.getvalue()
    assert "\r" in drawn
    assert "rebuild" in drawn
    assert "40/40" in drawn
