"""A relay far behind the store's head reports its progress up to that head."""

from __future__ import annotations

import io

from projections.catch_up import catch_up_reporter, follow_checkpoint


def test_far_behind_it_prints_lines_into_a_file_and_a_last_one_at_the_head() -> None:
    # given
    out = io.StringIO()
    published = catch_up_reporter(start=100, head=2100, stream=out, min_events=1000)
    assert published is not None
    # when: batches of 500, then one past the head it saw at start
    for position in (600, 1100, 1600, 2100, 2600):
        published(position)
    # then
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("relay catch-up: 0/2000 events")
    assert lines[-1].startswith("relay catch-up: 2000/2000 events")
    assert all("ETA" in line for line in lines)
    assert len(lines) == 2  # within 5 s: the first line and the last


def test_a_relay_close_to_the_head_reports_nothing() -> None:
    # given
    out = io.StringIO()
    # when
    published = catch_up_reporter(start=100, head=1099, stream=out, min_events=1000)
    # then
    assert published is None
    assert out.getvalue() == ""


class Checkpoint:
    """Positions read in turn (the last repeated), on a clock that each read moves one second."""

    def __init__(self, *positions: int) -> None:
        self.positions, self.now = list(positions), 0.0

    def load(self) -> int:
        self.now += 1
        return self.positions.pop(0) if len(self.positions) > 1 else self.positions[0]


def test_following_a_checkpoint_reports_its_way_to_the_head_and_returns_there() -> None:
    # given
    checkpoint, told = Checkpoint(100, 100, 600, 1100, 1300), []
    # when
    reached = follow_checkpoint(
        checkpoint.load,
        start=100,
        head=1200,
        progress=lambda done, total: told.append((done, total)),
        stall_seconds=30,
        clock=lambda: checkpoint.now,
        sleep=lambda _: None,
    )
    # then
    assert reached == 1300
    assert told == [(0, 1100), (0, 1100), (500, 1100), (1000, 1100), (1100, 1100)]


def test_a_checkpoint_that_stops_moving_is_given_up_after_the_stall_time() -> None:
    # given: it moves once, then stays
    checkpoint, told = Checkpoint(100, 600), []
    # when
    reached = follow_checkpoint(
        checkpoint.load,
        start=100,
        head=1200,
        progress=lambda done, total: told.append((done, total)),
        stall_seconds=5,
        clock=lambda: checkpoint.now,
        sleep=lambda _: None,
    )
    # then: given up 5 s after it last moved, where it stopped
    assert reached == 600
    assert told == [(0, 1100)] + [(500, 1100)] * 6
