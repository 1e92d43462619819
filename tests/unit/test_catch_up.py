"""A relay far behind the store's head reports its progress up to that head."""

from __future__ import annotations

import io

from projections.catch_up import catch_up_reporter


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
