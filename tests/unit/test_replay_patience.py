"""How long a replay waits out an outage: back-off doubling to a cap, given up at the bound."""

from __future__ import annotations

import pytest

from projections.replay.patience import OutageOutlasted, Patience


class Clock:
    """Time that passes only when slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_waits_double_up_to_the_cap_then_the_outage_is_given_up_at_the_bound() -> None:
    # given
    clock, lines = Clock(), []
    patience = Patience(20.0, lines.append, clock=lambda: clock.now, sleep=clock.sleep)
    # when: the outage goes on
    for _ in range(7):
        patience.wait("audit", ConnectionError("refused"))
    # then: it gives up at the bound
    with pytest.raises(OutageOutlasted, match=r"stayed away for 20 s \(--outage-timeout 20\)"):
        patience.wait("audit", ConnectionError("refused"))
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 2.5]
    assert lines[0] == (
        "replay audit: a backing server is away (ConnectionError('refused')); waiting "
        "(waited 0 s of 20 s), then continuing where it was"
    )
    assert len(lines) == 7


def test_work_that_goes_on_gives_the_next_outage_the_whole_bound_again() -> None:
    # given: an outage waited out for most of the bound
    clock = Clock()
    patience = Patience(3.0, clock=lambda: clock.now, sleep=clock.sleep)
    for _ in range(3):
        patience.wait("audit", TimeoutError())
    # when: the work went on, then another outage
    patience.recovered()
    patience.wait("audit", TimeoutError())
    # then: it starts again from the first back-off
    assert clock.slept == [0.5, 1.0, 1.5, 0.5]
